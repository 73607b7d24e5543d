import { follow, matches, numberOf } from './property-eval.js';
import type { FieldRef, Scalar } from './property-formula.js';
import type { SystemModel } from './system-model.js';

/**
 * How the exports see a field: the model stores each participant's local and shared
 * state as a code into the list of the decoded states its decider reached, so an atom
 * over a field becomes a test on that code. `variable` is absent when the state never
 * changes (always code 0).
 */
export interface FieldCodes {
  readonly participant: number;
  readonly values: readonly unknown[];
}

export function fieldCodes(m: SystemModel, f: FieldRef): FieldCodes {
  const p = m.participants.findIndex((t) => t.participant.name === f.participant);
  const t = m.participants[p];
  if (!t) throw new Error(`property reads participant "${f.participant}", which system ${m.definition.name} does not have`);
  const states = f.key === undefined ? t.shareds : t.locals;
  return { participant: p, values: states.map((s) => follow(s, f.path)) };
}

/** Codes whose value is one of `values`. */
export const codesIn = (c: FieldCodes, values: readonly Scalar[]): number[] => c.values.flatMap((v, code) => (matches(v, values) ? [code] : []));

/** Codes grouped by numeric value, the largest group first (it becomes the default branch). */
export function codesByNumber(c: FieldCodes, where: string): [number, number[]][] {
  const groups = new Map<number, number[]>();
  c.values.forEach((v, code) => {
    const n = numberOf(v, where);
    groups.set(n, [...(groups.get(n) ?? []), code]);
  });
  return [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
}

/** Machine-state codes (local states of the machine table) whose name is listed / that are final. */
export const stateCodes = (m: SystemModel, states: readonly string[]): number[] => m.table.names.flatMap((n, code) => (states.includes(n) ? [code] : []));
export const finalCodes = (m: SystemModel): number[] => m.table.names.flatMap((_, code) => (m.table.final[code] === 1 ? [code] : []));
