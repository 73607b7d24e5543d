import { ModelOptionsError } from './errors.js';
import type { BoolExpr, DataInvariant, DataLiveness, FieldRef, NumExpr, PathStep, Relation, Scalar } from './property-formula.js';
import type { SystemStateView } from './system-definition.js';

type Env = number[];
type BoolFn = (v: SystemStateView, env: Env) => boolean;
type NumFn = (v: SystemStateView, env: Env) => number;

/** The elements a `where` step selected (the steps after it apply to each). */
class Many {
  constructor(readonly values: readonly unknown[]) {}
}

const step1 = (cur: unknown, step: PathStep): unknown => {
  if (cur === null || cur === undefined) return undefined;
  if (typeof step === 'string') return (cur as Record<string, unknown>)[step];
  if (!Array.isArray(cur)) return undefined;
  const want = Object.entries(step.where);
  return new Many((cur as unknown[]).filter((el) => el !== null && typeof el === 'object' && want.every(([k, x]) => (el as Record<string, unknown>)[k] === x)));
};

/** Follows a path into a decoded state; undefined where anything is missing. */
export function follow(value: unknown, path: readonly PathStep[]): unknown {
  let cur = value;
  for (const step of path) cur = cur instanceof Many ? new Many(cur.values.map((v) => step1(v, step))) : step1(cur, step);
  return cur;
}

/** The numeric value of a decoded field: a missing value counts 0, several (through `where`) their sum, a non-number is an error. */
export function numberOf(value: unknown, where: string): number {
  if (value instanceof Many) return value.values.reduce<number>((sum, v) => sum + numberOf(v, where), 0);
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw new TypeError(`property field ${where} is not a number: ${JSON.stringify(value)}`);
}

export const compare = (rel: Relation, a: number, b: number): boolean => {
  switch (rel) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
};

export const matches = (value: unknown, values: readonly Scalar[]): boolean =>
  value instanceof Many ? value.values.some((v) => matches(v, values)) : value !== undefined && value !== null && values.includes(value as Scalar);

class Scope {
  constructor(private readonly names: readonly string[]) {}
  slot(key: string): number {
    const i = this.names.lastIndexOf(key);
    if (i < 0) throw new ModelOptionsError('property', `key "${key}" is not bound by a quantifier`);
    return i;
  }
  bind(key: string): Scope {
    return new Scope([...this.names, key]);
  }
  get depth(): number {
    return this.names.length;
  }
}

/**
 * An atom over a field: `read` maps the followed value to the atom's result. The checker's
 * states are interned objects (one per participant state code), so through an array
 * selection (`where`: a filter and an allocation) the result is remembered per state
 * object; a plain path of field names is followed directly (cheaper than a lookup).
 */
function fieldFn<T>(f: FieldRef, scope: Scope, read: (value: unknown) => T): (v: SystemStateView, env: Env) => T {
  let of: (root: unknown) => T;
  if (f.path.every((step) => typeof step === 'string')) {
    const names = f.path;
    of = (root) => {
      let cur = root;
      for (let i = 0; i < names.length && cur !== null && cur !== undefined; i++) cur = (cur as Record<string, unknown>)[names[i] as string];
      return read(cur);
    };
  } else {
    const memo = new WeakMap<object, T>();
    of = (root) => {
      if (root === null || typeof root !== 'object') return read(follow(root, f.path));
      const known = memo.get(root);
      if (known !== undefined) return known;
      const r = read(follow(root, f.path));
      memo.set(root, r);
      return r;
    };
  }
  const participant = f.participant;
  if (f.key === undefined) return (v) => of(v.shared(participant));
  const s = scope.slot(f.key);
  return (v, env) => of(v.local(participant, env[s] as number));
}

function num(e: NumExpr, scope: Scope): NumFn {
  switch (e.op) {
    case 'num':
      return () => e.value;
    case 'field': {
      const where = `${e.field.participant}.${e.field.path.map(String).join('.')}`;
      return fieldFn(e.field, scope, (x) => numberOf(x, where));
    }
    case '+':
    case '-':
    case '*': {
      const a = num(e.a, scope);
      const b = num(e.b, scope);
      return e.op === '+' ? (v, env) => a(v, env) + b(v, env) : e.op === '-' ? (v, env) => a(v, env) - b(v, env) : (v, env) => a(v, env) * b(v, env);
    }
    case 'sum':
    case 'count': {
      const inner = scope.bind(e.key);
      const s = scope.depth;
      const body: NumFn = e.op === 'sum' ? num(e.body, inner) : ((b) => (v: SystemStateView, env: Env) => (b(v, env) ? 1 : 0))(bool(e.body, inner));
      return (v, env) => {
        let total = 0;
        for (let k = 0; k < v.keys; k++) {
          env[s] = k;
          total += body(v, env);
        }
        return total;
      };
    }
    case 'if': {
      const c = bool(e.cond, scope);
      const t = num(e.then, scope);
      const f = num(e.else, scope);
      return (v, env) => (c(v, env) ? t(v, env) : f(v, env));
    }
  }
}

function bool(e: BoolExpr, scope: Scope): BoolFn {
  switch (e.op) {
    case 'bool':
      return () => e.value;
    case 'cmp': {
      const a = num(e.a, scope);
      const b = num(e.b, scope);
      if (e.b.op === 'num') {
        const k = e.b.value;
        if (e.rel === '==') return (v, env) => a(v, env) === k;
        if (e.rel === '<=') return (v, env) => a(v, env) <= k;
      }
      const rel = e.rel;
      return (v, env) => compare(rel, a(v, env), b(v, env));
    }
    case 'in': {
      return fieldFn(e.field, scope, (x) => matches(x, e.values));
    }
    case 'state': {
      const s = scope.slot(e.key);
      return (v, env) => e.states.includes(v.state(env[s] as number));
    }
    case 'final': {
      const s = scope.slot(e.key);
      return (v, env) => v.final(env[s] as number);
    }
    case 'quiet': {
      const s = scope.slot(e.key);
      return (v, env) => v.quiet(env[s] as number);
    }
    case 'and':
    case 'or': {
      // Plain loops: this runs on every state the checker stores.
      const fs = e.args.map((a) => bool(a, scope));
      const all = e.op === 'and';
      return (v, env) => {
        for (let i = 0; i < fs.length; i++) if ((fs[i] as BoolFn)(v, env) !== all) return !all;
        return all;
      };
    }
    case 'not': {
      const f = bool(e.arg, scope);
      return (v, env) => !f(v, env);
    }
    case 'implies': {
      const a = bool(e.a, scope);
      const b = bool(e.b, scope);
      return (v, env) => !a(v, env) || b(v, env);
    }
    case 'forall':
    case 'exists': {
      const body = bool(e.body, scope.bind(e.key));
      const s = scope.depth;
      const all = e.op === 'forall';
      return (v, env) => {
        for (let k = 0; k < v.keys; k++) {
          env[s] = k;
          if (body(v, env) !== all) return !all;
        }
        return all;
      };
    }
  }
}

/** Compiles a formula to a predicate over a view; `keys` binds free key names to key indices (e.g. a per-key body). */
export function compileFormula(e: BoolExpr, free: readonly string[] = []): (v: SystemStateView, keys?: readonly number[]) => boolean {
  const f = bool(e, new Scope(free));
  // Evaluation is synchronous and never re-entered: one environment serves every call.
  const env: number[] = [];
  return (v, keys) => {
    if (keys) for (let i = 0; i < keys.length; i++) env[i] = keys[i] as number;
    return f(v, env);
  };
}

/** An invariant written as data; its `holds` is the compiled formula. */
export function dataInvariant(name: string, description: string, formula: BoolExpr): DataInvariant {
  const holds = compileFormula(formula);
  return { name, description, formula, holds: (v) => holds(v) };
}

/** A liveness property written as data: `pending` marks an unmet obligation, `premise` the states where it arises. */
export function dataLiveness(name: string, description: string, pending: BoolExpr, premise: BoolExpr): DataLiveness {
  const p = compileFormula(pending);
  const q = compileFormula(premise);
  return { name, description, pendingFormula: pending, premiseFormula: premise, pending: (v) => p(v), premise: (v) => q(v) };
}
