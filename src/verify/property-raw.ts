import { follow, matches, numberOf } from './property-eval.js';
import type { BoolExpr, FieldRef, NumExpr } from './property-formula.js';
import type { SystemModel } from './system-model.js';

/** A property over a packed state: the state's bytes start at `o` in `s` (a store's arena or a scratch vector). */
export type RawPredicate = (s: Uint8Array, o: number) => boolean;

/**
 * Compiles a formula to one JavaScript function over the packed state bytes, for the
 * checker: no view object, no closure per sub-formula. Every atom depends on one byte
 * (a key's machine or participant local state code, a participant's shared state code),
 * so its value is remembered per code in an array (participant tables grow during the
 * exploration, so the arrays fill lazily); quiet(k) reads the queue heads directly.
 * Same results as `compileFormula` over a view (property-eval.ts), which stays the
 * reference (the monitor, non-data properties). Undefined when the formula names a
 * participant the system lacks: the view-based evaluator reports that error.
 */
export function compileRaw(model: SystemModel, formula: BoolExpr): RawPredicate | undefined {
  const names = model.participants.map((p) => p.participant.name);
  const caches: unknown[][] = [];
  const fills: ((code: number) => unknown)[] = [];
  let helpers = '';
  let fresh = 0;
  const K = model.options.keys;
  const B = model.blockSize;
  const first = model.firstBlock;
  const keyBase = (k: string) => `o + ${first} + ${k} * ${B}`;

  /** An atom over one byte: `(C[i][code] ?? F[i](code))`. */
  const atom = (code: string, fill: (code: number) => unknown): string => {
    const i = caches.length;
    caches.push([]);
    fills.push((c) => (caches[i] as unknown[])[c] = fill(c));
    return `(C[${i}][${code}] ?? F[${i}](${code}))`;
  };
  const field = (f: FieldRef, keys: Map<string, string>, read: (value: unknown) => unknown): string | undefined => {
    const p = names.indexOf(f.participant);
    if (p < 0) return undefined;
    const table = model.participants[p];
    if (!table) return undefined;
    if (f.key === undefined) {
      const at = model.sharedAt[p] ?? -1;
      return atom(at < 0 ? '0' : `s[o + ${at}]`, (c) => read(follow(table.shareds[c], f.path)));
    }
    const k = keys.get(f.key);
    if (k === undefined) return undefined;
    return atom(`s[${keyBase(k)} + ${1 + p}]`, (c) => read(follow(table.locals[c], f.path)));
  };
  const machine = (key: string, keys: Map<string, string>, fill: (code: number) => unknown): string | undefined => {
    const k = keys.get(key);
    return k === undefined ? undefined : atom(`s[${keyBase(k)}]`, fill);
  };
  const quantifier = (key: string, keys: Map<string, string>, body: (inner: Map<string, string>) => string | undefined, loop: (b: string) => string): string | undefined => {
    const v = `k${fresh++}`;
    const inner = new Map(keys).set(key, v);
    const b = body(inner);
    if (b === undefined) return undefined;
    const outer = [...new Set(keys.values())];
    const fn = `q${fresh++}`;
    helpers += `function ${fn}(s, o${outer.map((x) => `, ${x}`).join('')}) { ${loop(b).replaceAll('$K', v)} }\n`;
    return `${fn}(s, o${outer.map((x) => `, ${x}`).join('')})`;
  };

  const num = (e: NumExpr, keys: Map<string, string>): string | undefined => {
    switch (e.op) {
      case 'num':
        return `(${String(e.value)})`;
      case 'field': {
        const where = `${e.field.participant}.${e.field.path.map(String).join('.')}`;
        return field(e.field, keys, (x) => numberOf(x, where));
      }
      case '+':
      case '-':
      case '*': {
        const a = num(e.a, keys);
        const b = num(e.b, keys);
        return a === undefined || b === undefined ? undefined : `(${a} ${e.op} ${b})`;
      }
      case 'sum':
        return quantifier(e.key, keys, (inner) => num(e.body, inner), (b) => `let t = 0; for (let $K = 0; $K < ${K}; $K++) t += ${b}; return t;`);
      case 'count':
        return quantifier(e.key, keys, (inner) => bool(e.body, inner), (b) => `let t = 0; for (let $K = 0; $K < ${K}; $K++) if (${b}) t++; return t;`);
      case 'if': {
        const c = bool(e.cond, keys);
        const t = num(e.then, keys);
        const f = num(e.else, keys);
        return c === undefined || t === undefined || f === undefined ? undefined : `(${c} ? ${t} : ${f})`;
      }
    }
  };
  const bool = (e: BoolExpr, keys: Map<string, string>): string | undefined => {
    switch (e.op) {
      case 'bool':
        return String(e.value);
      case 'cmp': {
        const a = num(e.a, keys);
        const b = num(e.b, keys);
        const rel = e.rel === '==' ? '===' : e.rel === '!=' ? '!==' : e.rel;
        return a === undefined || b === undefined ? undefined : `(${a} ${rel} ${b})`;
      }
      case 'in':
        return field(e.field, keys, (x) => matches(x, e.values));
      case 'state':
        return machine(e.key, keys, (c) => e.states.includes(model.table.names[c] ?? '?'));
      case 'final':
        return machine(e.key, keys, (c) => model.table.final[c] === 1);
      case 'quiet': {
        const k = keys.get(e.key);
        if (k === undefined) return undefined;
        const q0 = model.queueOffset(0, 0) - first;
        const heads = Array.from({ length: model.participants.length + 1 }, (_, q) => `s[${keyBase(k)} + ${q0 + q * model.options.capacity}]`);
        return `((${heads.join(' | ')}) === 0)`;
      }
      case 'and':
      case 'or': {
        const parts = e.args.map((a) => bool(a, keys));
        if (parts.some((x) => x === undefined)) return undefined;
        return parts.length === 0 ? String(e.op === 'and') : `(${parts.join(e.op === 'and' ? ' && ' : ' || ')})`;
      }
      case 'not': {
        const a = bool(e.arg, keys);
        return a === undefined ? undefined : `(!${a})`;
      }
      case 'implies': {
        const a = bool(e.a, keys);
        const b = bool(e.b, keys);
        return a === undefined || b === undefined ? undefined : `(!${a} || ${b})`;
      }
      case 'forall':
        return quantifier(e.key, keys, (inner) => bool(e.body, inner), (b) => `for (let $K = 0; $K < ${K}; $K++) if (!${b}) return false; return true;`);
      case 'exists':
        return quantifier(e.key, keys, (inner) => bool(e.body, inner), (b) => `for (let $K = 0; $K < ${K}; $K++) if (${b}) return true; return false;`);
    }
  };

  const body = bool(formula, new Map());
  if (body === undefined) return undefined;
  // The generated source holds only numbers, offsets and generated names: formula strings stay in the fill closures.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('C', 'F', `${helpers}return function holds(s, o) { return ${body}; };`) as (c: unknown[][], f: ((code: number) => unknown)[]) => RawPredicate;
  return make(caches, fills);
}
