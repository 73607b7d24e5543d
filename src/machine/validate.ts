import { MachineDefinitionError, type DefinitionViolation } from './errors.js';
import { adjacency, edges, reachableFrom } from './graph.js';
import type { Machine } from './types.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

/**
 * Structural rules checked when a machine is built (also for machines loaded from
 * JSON, where the compiler could not help): every reference resolves, final states
 * have no exits, every state is reachable, and every state can still finish.
 */
export function definitionViolations(machine: AnyMachine): DefinitionViolation[] {
  const v: DefinitionViolation[] = [];
  const names = new Set(machine.stateNames);
  if (!names.has(machine.initial)) v.push({ code: 'UNKNOWN_INITIAL', message: `initial state ${machine.initial} does not exist` });

  for (const name of machine.stateNames) {
    const s = machine.states[name];
    if (!s) continue;
    for (const ev of [...Object.keys(s.on), ...s.ignore]) {
      if (!(ev in machine.eventSchemas)) v.push({ code: 'UNKNOWN_EVENT', state: name, message: `state ${name} handles unknown event ${ev}` });
    }
    for (const delay of Object.keys(s.after)) {
      if (!(delay in machine.delays)) v.push({ code: 'UNKNOWN_DELAY', state: name, message: `state ${name} uses unknown delay ${delay}` });
    }
    for (const step of [s.invoke, s.compensate]) {
      if (step !== undefined && !(step in machine.steps)) v.push({ code: 'UNKNOWN_STEP', state: name, message: `state ${name} uses unknown step ${step}` });
    }
    if (s.compensate !== undefined && machine.steps[s.compensate] && !machine.steps[s.compensate]?.compensation) {
      v.push({ code: 'UNKNOWN_STEP', state: name, message: `state ${name} compensates step ${s.compensate}, which declares no compensation` });
    }
    if (s.final && (Object.keys(s.on).length > 0 || Object.keys(s.after).length > 0 || s.always.length > 0 || s.invoke || s.compensate)) {
      v.push({ code: 'FINAL_HAS_EXITS', state: name, message: `final state ${name} has outgoing transitions or work` });
    }
  }
  for (const e of edges(machine)) {
    const t = e.transition;
    if (!names.has(t.target)) v.push({ code: 'UNKNOWN_TARGET', state: e.from, message: `${e.from} --${e.trigger}--> ${t.target}: target state does not exist` });
    if (t.guard !== undefined && !(t.guard in machine.guards)) v.push({ code: 'UNKNOWN_GUARD', state: e.from, message: `${e.from} --${e.trigger}-->: unknown guard ${t.guard}` });
    for (const a of t.assign) if (!(a in machine.assigns)) v.push({ code: 'UNKNOWN_ASSIGN', state: e.from, message: `${e.from} --${e.trigger}-->: unknown assign ${a}` });
    for (const step of [t.completes, t.fails, t.compensated]) {
      if (step !== undefined && !(step in machine.steps)) v.push({ code: 'UNKNOWN_STEP', state: e.from, message: `${e.from} --${e.trigger}-->: unknown step ${step}` });
    }
  }

  const adj = adjacency(machine);
  if (names.has(machine.initial)) {
    const reachable = reachableFrom(adj, [machine.initial]);
    for (const name of machine.stateNames) {
      if (!reachable.has(name)) v.push({ code: 'UNREACHABLE', state: name, message: `state ${name} is unreachable from ${machine.initial}` });
    }
  }
  const finals = machine.stateNames.filter((n) => machine.states[n]?.final);
  if (finals.length === 0) v.push({ code: 'NO_FINAL_STATE', message: 'the machine has no final state' });
  const reverse = new Map<string, Set<string>>(machine.stateNames.map((n) => [n, new Set<string>()]));
  for (const [from, tos] of adj) for (const to of tos) reverse.get(to)?.add(from);
  const canFinish = reachableFrom(reverse, finals);
  for (const name of machine.stateNames) {
    if (!canFinish.has(name)) v.push({ code: 'DEAD_END', state: name, message: `state ${name} cannot reach a final state` });
  }
  return v;
}

export function validateMachine(machine: AnyMachine): void {
  const v = definitionViolations(machine);
  if (v.length > 0) throw new MachineDefinitionError(machine.id, v);
}
