import type { SystemInvariant, SystemLiveness } from './system-definition.js';

/**
 * System properties as data: a small typed expression language over one state of a
 * system (per key the machine state and each participant's local state, and the
 * participants' shared states). One formula compiles to a TypeScript evaluator over a
 * `SystemStateView` (the checker, the runtime monitor), a Promela expression and a
 * TLA+ expression (the exports). Keys are bound by quantifiers and named by a string.
 */
export type Scalar = number | boolean | string;

/**
 * A step into a value: an object field, or the elements of an array whose fields equal
 * these (every one: the steps after it apply to each, and a number read through it is
 * their sum — two lines of the same SKU hold both quantities; an enum matches if any does).
 */
export type PathStep = string | { readonly where: Readonly<Record<string, Scalar>> };

/** A participant's local state of a bound key (`key` set) or its shared state (`key` absent), then a path into it. */
export interface FieldRef {
  readonly participant: string;
  readonly key?: string;
  readonly path: readonly PathStep[];
}

export type NumExpr =
  | { readonly op: 'num'; readonly value: number }
  /** A numeric field; a missing value (no local state yet, no such element) counts 0. */
  | { readonly op: 'field'; readonly field: FieldRef }
  | { readonly op: '+' | '-' | '*'; readonly a: NumExpr; readonly b: NumExpr }
  | { readonly op: 'sum'; readonly key: string; readonly body: NumExpr }
  | { readonly op: 'count'; readonly key: string; readonly body: BoolExpr }
  | { readonly op: 'if'; readonly cond: BoolExpr; readonly then: NumExpr; readonly else: NumExpr };

export type Relation = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type BoolExpr =
  | { readonly op: 'bool'; readonly value: boolean }
  | { readonly op: 'cmp'; readonly rel: Relation; readonly a: NumExpr; readonly b: NumExpr }
  /** A field (enum, boolean or number) equals one of these values; a missing value equals none. */
  | { readonly op: 'in'; readonly field: FieldRef; readonly values: readonly Scalar[] }
  | { readonly op: 'state'; readonly key: string; readonly states: readonly string[] }
  | { readonly op: 'final'; readonly key: string }
  /** Nothing in flight to or from this key. */
  | { readonly op: 'quiet'; readonly key: string }
  | { readonly op: 'and' | 'or'; readonly args: readonly BoolExpr[] }
  | { readonly op: 'not'; readonly arg: BoolExpr }
  | { readonly op: 'implies'; readonly a: BoolExpr; readonly b: BoolExpr }
  | { readonly op: 'forall' | 'exists'; readonly key: string; readonly body: BoolExpr };

/** Builders, so a property reads like the formula it is. */
export const P = {
  num: (value: number): NumExpr => ({ op: 'num', value }),
  local: (participant: string, key: string, ...path: PathStep[]): FieldRef => ({ participant, key, path }),
  shared: (participant: string, ...path: PathStep[]): FieldRef => ({ participant, path }),
  value: (field: FieldRef): NumExpr => ({ op: 'field', field }),
  add: (a: NumExpr, b: NumExpr): NumExpr => ({ op: '+', a, b }),
  sub: (a: NumExpr, b: NumExpr): NumExpr => ({ op: '-', a, b }),
  mul: (a: NumExpr, b: NumExpr): NumExpr => ({ op: '*', a, b }),
  sum: (key: string, body: NumExpr): NumExpr => ({ op: 'sum', key, body }),
  count: (key: string, body: BoolExpr): NumExpr => ({ op: 'count', key, body }),
  ite: (cond: BoolExpr, then: NumExpr, otherwise: NumExpr): NumExpr => ({ op: 'if', cond, then, else: otherwise }),
  cmp: (a: NumExpr, rel: Relation, b: NumExpr): BoolExpr => ({ op: 'cmp', rel, a, b }),
  isIn: (field: FieldRef, ...values: Scalar[]): BoolExpr => ({ op: 'in', field, values }),
  state: (key: string, ...states: string[]): BoolExpr => ({ op: 'state', key, states }),
  final: (key: string): BoolExpr => ({ op: 'final', key }),
  quiet: (key: string): BoolExpr => ({ op: 'quiet', key }),
  and: (...args: BoolExpr[]): BoolExpr => ({ op: 'and', args }),
  or: (...args: BoolExpr[]): BoolExpr => ({ op: 'or', args }),
  not: (arg: BoolExpr): BoolExpr => ({ op: 'not', arg }),
  implies: (a: BoolExpr, b: BoolExpr): BoolExpr => ({ op: 'implies', a, b }),
  forall: (key: string, body: BoolExpr): BoolExpr => ({ op: 'forall', key, body }),
  exists: (key: string, body: BoolExpr): BoolExpr => ({ op: 'exists', key, body }),
  bool: (value: boolean): BoolExpr => ({ op: 'bool', value }),
};

/** An invariant written as data: `holds` is compiled from `formula`, so the checker needs nothing new. */
export interface DataInvariant extends SystemInvariant {
  readonly formula: BoolExpr;
}
/** A liveness property written as data. */
export interface DataLiveness extends SystemLiveness {
  readonly pendingFormula: BoolExpr;
  readonly premiseFormula: BoolExpr;
}

export const isDataInvariant = (p: SystemInvariant): p is DataInvariant => 'formula' in p && (p as DataInvariant).formula !== undefined;
export const isDataLiveness = (p: SystemLiveness): p is DataLiveness => 'pendingFormula' in p && (p as DataLiveness).pendingFormula !== undefined;

const path = (f: FieldRef) => f.path.map((s) => (typeof s === 'string' ? `.${s}` : `[${Object.entries(s.where).map(([k, v]) => `${k}=${String(v)}`).join(',')}]`)).join('');
const fieldText = (f: FieldRef) => `${f.participant}${f.key === undefined ? '' : `[${f.key}]`}${path(f)}`;

/** The formula in one readable line (export comments, alerts). */
export function describeFormula(e: BoolExpr | NumExpr): string {
  switch (e.op) {
    case 'num':
    case 'bool':
      return String(e.value);
    case 'field':
      return fieldText(e.field);
    case '+':
    case '-':
    case '*':
      return `(${describeFormula(e.a)} ${e.op} ${describeFormula(e.b)})`;
    case 'sum':
    case 'count':
      return `${e.op} ${e.key}: ${describeFormula(e.body)}`;
    case 'if':
      return `(if ${describeFormula(e.cond)} then ${describeFormula(e.then)} else ${describeFormula(e.else)})`;
    case 'cmp':
      return `${describeFormula(e.a)} ${e.rel} ${describeFormula(e.b)}`;
    case 'in':
      return `${fieldText(e.field)} in {${e.values.map(String).join(', ')}}`;
    case 'state':
      return `state[${e.key}] in {${e.states.join(', ')}}`;
    case 'final':
    case 'quiet':
      return `${e.op}(${e.key})`;
    case 'and':
    case 'or':
      return `(${e.args.map(describeFormula).join(` ${e.op} `)})`;
    case 'not':
      return `not ${describeFormula(e.arg)}`;
    case 'implies':
      return `(${describeFormula(e.a)} => ${describeFormula(e.b)})`;
    case 'forall':
    case 'exists':
      return `${e.op} ${e.key}: ${describeFormula(e.body)}`;
  }
}

type Node = BoolExpr | NumExpr;

/** The sub-formulas of a formula. */
function children(e: Node): Node[] {
  switch (e.op) {
    case '+':
    case '-':
    case '*':
    case 'cmp':
    case 'implies':
      return [e.a, e.b];
    case 'sum':
    case 'count':
    case 'forall':
    case 'exists':
      return [e.body];
    case 'if':
      return [e.cond, e.then, e.else];
    case 'and':
    case 'or':
      return [...e.args];
    case 'not':
      return [e.arg];
    default:
      return [];
  }
}
const anywhere = (e: Node, test: (n: Node) => boolean): boolean => test(e) || children(e).some((c) => anywhere(c, test));

/** Whether a formula reads any participant's shared state. */
export const readsShared = (e: Node): boolean => anywhere(e, (n) => (n.op === 'field' || n.op === 'in') && n.field.key === undefined);
/** Whether a formula quantifies over keys anywhere (sum, count, forall, exists). */
const quantifies = (e: Node): boolean => anywhere(e, (n) => n.op === 'sum' || n.op === 'count' || n.op === 'forall' || n.op === 'exists');

/**
 * A per-key property: `forall k: body` where the body reads only key k (no shared
 * state, no other quantifier). The monitor can judge such a property one key at a time.
 */
export function perKeyBody(e: BoolExpr): { key: string; body: BoolExpr } | undefined {
  if (e.op !== 'forall' || readsShared(e.body) || quantifies(e.body)) return undefined;
  return { key: e.key, body: e.body };
}
