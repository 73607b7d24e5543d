import { codesByNumber, codesIn, fieldCodes, finalCodes, stateCodes } from './property-codes.js';
import type { BoolExpr, FieldRef, NumExpr, Relation } from './property-formula.js';
import type { SystemModel } from './system-model.js';

/**
 * A target language's spelling of a formula over the export's variables (Promela,
 * TLA+). Keys are written as expressions: a literal when a quantifier is unrolled
 * (the number of keys is fixed in an export), or a bound name.
 */
export interface FormulaSyntax {
  readonly true: string;
  readonly false: string;
  readonly and: string;
  readonly or: string;
  not(a: string): string;
  rel(r: Relation): string;
  ite(c: string, a: string, b: string): string;
  /** The code variable of a participant's local state at a key, or of its shared state (undefined: never changes, code 0). */
  code(participant: number, key: string | undefined): string | undefined;
  /** `x` is one of these codes. */
  oneOf(x: string, codes: readonly number[]): string;
  machine(key: string): string;
  quiet(key: string): string;
  /** The key expression for key index i when a quantifier is unrolled. */
  literalKey(i: number): string;
  /** A native quantifier (`\A k \in Keys : …`); undefined = unroll over the keys. */
  quantify?(op: 'forall' | 'exists', name: string, body: string): string;
  /** A bound key's name in the target (when quantifiers are native). */
  boundName?(key: string, depth: number): string;
}

type Env = ReadonlyMap<string, string>;

class Renderer {
  private fresh = 0;
  constructor(
    private readonly m: SystemModel,
    private readonly s: FormulaSyntax,
  ) {}

  private key(env: Env, k: string): string {
    const x = env.get(k);
    if (x === undefined) throw new Error(`key "${k}" is not bound by a quantifier`);
    return x;
  }

  private codeOf(f: FieldRef, env: Env): { x: string | undefined; c: ReturnType<typeof fieldCodes> } {
    const c = fieldCodes(this.m, f);
    return { x: this.s.code(c.participant, f.key === undefined ? undefined : this.key(env, f.key)), c };
  }

  private test(x: string | undefined, codes: readonly number[], total: number): string {
    if (codes.length === 0) return this.s.false;
    if (codes.length === total) return this.s.true;
    if (x === undefined) return codes.includes(0) ? this.s.true : this.s.false;
    return this.s.oneOf(x, codes);
  }

  private unroll(env: Env, key: string, join: string, one: (env: Env) => string): string {
    const parts = Array.from({ length: this.m.options.keys }, (_, i) => one(new Map([...env, [key, this.s.literalKey(i)]])));
    return `(${parts.join(join)})`;
  }

  num(e: NumExpr, env: Env): string {
    switch (e.op) {
      case 'num':
        return String(e.value);
      case 'field': {
        const { x, c } = this.codeOf(e.field, env);
        const groups = codesByNumber(c, `${e.field.participant}.${e.field.path.map(String).join('.')}`);
        const [fallback] = groups[0] ?? [0, []];
        if (x === undefined) return String(groups.find(([, codes]) => codes.includes(0))?.[0] ?? 0);
        return groups.slice(1).reduceRight((rest, [n, codes]) => this.s.ite(this.s.oneOf(x, codes), String(n), rest), String(fallback));
      }
      case '+':
      case '-':
      case '*':
        return `(${this.num(e.a, env)} ${e.op} ${this.num(e.b, env)})`;
      case 'sum':
        return this.unroll(env, e.key, ' + ', (inner) => this.num(e.body, inner));
      case 'count':
        return this.unroll(env, e.key, ' + ', (inner) => this.s.ite(this.bool(e.body, inner), '1', '0'));
      case 'if':
        return this.s.ite(this.bool(e.cond, env), this.num(e.then, env), this.num(e.else, env));
    }
  }

  bool(e: BoolExpr, env: Env): string {
    switch (e.op) {
      case 'bool':
        return e.value ? this.s.true : this.s.false;
      case 'cmp':
        return `(${this.num(e.a, env)} ${this.s.rel(e.rel)} ${this.num(e.b, env)})`;
      case 'in': {
        const { x, c } = this.codeOf(e.field, env);
        return this.test(x, codesIn(c, e.values), c.values.length);
      }
      case 'state':
        return this.test(this.s.machine(this.key(env, e.key)), stateCodes(this.m, e.states), this.m.table.names.length);
      case 'final':
        return this.test(this.s.machine(this.key(env, e.key)), finalCodes(this.m), this.m.table.names.length);
      case 'quiet':
        return this.s.quiet(this.key(env, e.key));
      case 'and':
      case 'or':
        if (e.args.length === 0) return e.op === 'and' ? this.s.true : this.s.false;
        return `(${e.args.map((a) => this.bool(a, env)).join(e.op === 'and' ? this.s.and : this.s.or)})`;
      case 'not':
        return this.s.not(this.bool(e.arg, env));
      case 'implies':
        return `(${this.s.not(this.bool(e.a, env))}${this.s.or}${this.bool(e.b, env)})`;
      case 'forall':
      case 'exists': {
        if (this.s.quantify && this.s.boundName) {
          // A fresh name per quantifier: TLA+ forbids shadowing a bound name.
          const name = this.s.boundName(e.key, this.fresh++);
          return this.s.quantify(e.op, name, this.bool(e.body, new Map([...env, [e.key, name]])));
        }
        return this.unroll(env, e.key, e.op === 'forall' ? this.s.and : this.s.or, (inner) => this.bool(e.body, inner));
      }
    }
  }
}

/** A formula written in a target language over the model's variables (its tables must be filled: explore first). */
export function renderFormula(m: SystemModel, syntax: FormulaSyntax, e: BoolExpr): string {
  return new Renderer(m, syntax).bool(e, new Map());
}
