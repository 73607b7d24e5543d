import { ModelOptionsError } from './errors.js';
import type { ParticipantTable } from './participant-table.js';
import { checkModel } from './system-checker.js';
import type { SystemDefinition, SystemRunOptions } from './system-definition.js';
import { SystemModel } from './system-model.js';
import { renderProperties, tlaProperties, tlaSyntax } from './property-exports.js';

const str = (s: string) => `"${s}"`;
const seq = (xs: readonly (string | number)[]) => `<<${xs.join(', ')}>>`;
const set = (xs: readonly string[]) => `{${xs.join(', ')}}`;
const ident = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');
const cap = (s: string) => ident(s.charAt(0).toUpperCase() + s.slice(1));

/**
 * A system as a TLA+ module with the checker's state variables, actions and budgets,
 * generated from the same tables: the machine's transition function and every
 * participant decider's answers on each reachable state (the exploration fills the
 * tables first). Legal TLA+: `[][Next]_vars`, `WF_vars(...)` per fair actor, the
 * transition property with primes only inside `[][...]_vars`, and a `Done` step that
 * lets a finished system stutter (TLC needs no `-deadlock`). Returns the module and
 * its TLC configuration.
 */
export function toTla(definition: SystemDefinition, run: SystemRunOptions, moduleName = `Ordo${cap(definition.name)}System`): { module: string; cfg: string } {
  const m = new SystemModel(definition, run);
  checkModel(m, { liveness: false });
  const { keys: N, capacity: C } = m.options;
  const tab = m.table;
  const I = tab.inputs.length;
  const L = tab.names.length;
  const P = m.participants.length;
  const pn = m.participants.map((t) => cap(t.participant.name));
  const reactionTarget = m.participants.map((t, p) => {
    const targets = new Set(t.known.flatMap(([, , , , e]) => (t.reactions[e] ?? []).map((r) => r.participant)));
    if (targets.size > 1) throw new ModelOptionsError('wiring', `the TLA+ export supports reactions to one participant; ${pn[p] ?? '?'} reacts into ${targets.size}`);
    return [...targets][0] ?? -1;
  });

  // The machine: <<from, input, to, commands per participant (codes)>>.
  const rows: string[] = [];
  const steps: string[] = [];
  for (let l = 0; l < L; l++) {
    for (let k = 0; k < I; k++) {
      const e = l * I + k;
      const nx = tab.next[e] ?? -1;
      const inp = tab.inputs[k];
      if (nx < 0 || !inp) continue;
      if (inp.kind !== 'reply' && !tab.changed[e]) continue;
      const input = inp.kind === 'timer' ? `timer:${inp.name}` : inp.name;
      const per = m.participants.map((_, p) => seq((tab.sends[e] ?? []).filter((c) => c.service === p).map((c) => c.code)));
      rows.push(`<<${l}, ${str(input)}, ${nx}, ${per.join(', ')}>>`);
      if (nx !== l) steps.push(`<<${l}, ${nx}, ${set((tab.paths[e] ?? []).map((p) => `<<${str(p.from)}, ${str(p.to)}>>`))}>>`);
    }
  }
  // A participant: <<local, shared, command, choice, reacting local, reacting shared, local', shared', reacting local', reacting shared', replies>> (-1: no reaction).
  const partRows = (t: ParticipantTable, p: number): string[] => {
    const out: string[] = [];
    for (const [l, g, c, x, e] of t.known) {
      const choice = str(x === 0 ? 'ok' : (t.choices[c - 1]?.[x]?.fault ?? '?'));
      const base = (rl: number, rg: number, nrl: number, nrg: number, replies: readonly number[]) => `<<${l}, ${g}, ${c}, ${choice}, ${rl}, ${rg}, ${t.nextLocal[e]}, ${t.nextShared[e]}, ${nrl}, ${nrg}, ${seq(replies)}>>`;
      const reactions = t.reactions[e] ?? [];
      const r = reactions[0];
      const q = reactionTarget[p] ?? -1;
      if (!r || q < 0) {
        out.push(base(-1, -1, -1, -1, t.replies[e] ?? []));
        continue;
      }
      const qt = m.participants[q] as ParticipantTable;
      for (const [ql, qg, qc, qx, qe] of qt.known) if (qc === r.code && qx === 0) out.push(base(ql, qg, qt.nextLocal[qe] ?? 0, qt.nextShared[qe] ?? 0, [...(t.replies[e] ?? []), ...(qt.replies[qe] ?? [])]));
    }
    return out;
  };
  // Parked replies tried again after a step that changed the key's state: every retry the exploration made, as data.
  const retryRows = [...m.parking.retries.values()].map((r) => `<<${r.origin}, ${r.from}, ${seq(r.parked)}, ${r.to}, ${seq(r.left)}, ${m.participants.map((_, p) => seq(r.sends.filter((c) => c.service === p).map((c) => c.code))).join(', ')}>>`);
  for (const r of m.parking.retries.values()) if (r.to !== r.origin) steps.push(`<<${r.origin}, ${r.to}, {}>>`);
  const allowedPairs: string[] = [];
  for (const [from, tos] of Object.entries(m.allowedTransitions)) for (const to of tos) allowedPairs.push(`<<${str(from)}, ${str(to)}>>`);
  const finals = tab.machine.stateNames.filter((s) => tab.machine.states[s]?.final);
  const lv = (p: number) => `l${pn[p]}`;
  const sv = (p: number) => `sh${pn[p]}`;
  const qv = (p: number) => (p === P ? 'qr' : `q${pn[p]}`);
  const all = ['budget', 'o', ...pn.map((_, p) => lv(p)), ...pn.map((_, p) => sv(p)), ...Array.from({ length: P + 1 }, (_, q) => qv(q)), 'pk'];
  const unchanged = (changed: readonly string[]) => {
    const rest = all.filter((v) => !changed.includes(v));
    return rest.length ? `UNCHANGED <<${rest.join(', ')}>>` : 'TRUE';
  };
  const budgetGuard = (f: string) => `budget[${str(f)}] > 0 /\\ Spend(${str(f)})`;

  const envActors = new Map<string, string[]>();
  const envDefs: string[] = [];
  for (const env of m.envInputs) {
    const name = tab.inputs[env.k]?.name ?? '?';
    const actor = m.actors[env.actor] ?? '?';
    envDefs.push(`Env${cap(name)}(i) == ${env.fault ? budgetGuard(env.fault) : 'UNCHANGED budget'} /\\ MachineInput(i, ${str(name)})`);
    envActors.set(actor, [...(envActors.get(actor) ?? []), `Env${cap(name)}(i)`]);
  }
  const partDefs = m.participants.map((t, p) => {
    const r = reactionTarget[p] ?? -1;
    const react = r < 0 ? '' : `\n       /\\ IF t[5] = -1 THEN UNCHANGED <<${lv(r)}, ${sv(r)}>> ELSE t[5] = ${lv(r)}[i] /\\ t[6] = ${sv(r)} /\\ ${lv(r)}' = [${lv(r)} EXCEPT ![i] = t[9]] /\\ ${sv(r)}' = t[10]`;
    const changed = [lv(p), sv(p), 'qr', qv(p), 'budget', ...(r < 0 ? [] : [lv(r), sv(r)])];
    return `(* ${t.participant.name}: its decider's answers on every reachable state *)
T${pn[p]} == {
  ${partRows(t, p).join(',\n  ') || '<<-1, -1, -1, "ok", -1, -1, -1, -1, -1, -1, <<>>>>'}
}
${pn[p]}Step(i, f, pop) ==
  /\\ ${qv(p)}[i] # <<>>
  /\\ \\E t \\in T${pn[p]} : t[1] = ${lv(p)}[i] /\\ t[2] = ${sv(p)} /\\ t[3] = Head(${qv(p)}[i]) /\\ t[4] = f
       /\\ ${lv(p)}' = [${lv(p)} EXCEPT ![i] = t[7]] /\\ ${sv(p)}' = t[8]
       /\\ qr' = [qr EXCEPT ![i] = @ \\o t[11]]${react}
  /\\ ${qv(p)}' = IF pop THEN [${qv(p)} EXCEPT ![i] = Tail(@)] ELSE ${qv(p)}
  /\\ ${unchanged(changed)}
${pn[p]}Handles(i) == UNCHANGED budget /\\ ${pn[p]}Step(i, "ok", TRUE)
${pn[p]}Crashes(i) == ${budgetGuard('crash')} /\\ ${pn[p]}Step(i, "ok", FALSE)
${pn[p]}Choice(i) == \\E f \\in {${[...new Set(t.choices.flatMap((cs) => cs.slice(1).map((c) => c.fault ?? '')))].filter((f) => f !== '').map(str).join(', ')}} : ${budgetGuard('f').replace('"f"', 'f').replace('"f"', 'f')} /\\ ${pn[p]}Step(i, f, TRUE)`;
  });
  const fairActors = m.actors.filter((_, a) => ((m.fairMask >> a) & 1) === 1);
  const actorBody = (a: string): string[] => {
    const p = m.participants.findIndex((t) => t.participant.name === a);
    if (a === m.definition.orchestrator) return [...(envActors.get(a) ?? []), 'HandleReply(i)'];
    if (p >= 0) return [`${pn[p]}Handles(i)`, `${pn[p]}Choice(i)`];
    if (a === 'timer') return ['Timer(i)'];
    if (a === 'network') return ['Network(i)'];
    if (a === 'crash') return [...pn.map((n) => `${n}Crashes(i)`), 'EngineCrash(i)', 'RelayCrash(i)'];
    return envActors.get(a) ?? ['FALSE'];
  };
  const actorName = (a: string) => `${cap(a)}Actor`;
  const machineVars = ['o', 'pk', ...pn.map((_, p) => qv(p))];
  const queuesOf = (q: number) => qv(q);
  const props = tlaProperties(renderProperties(m, tlaSyntax({ local: (p, key) => `${lv(p)}[${key}]`, shared: sv })));
  // The generic "every key ends" is stated only when the definition has no property of that name.
  const builtinTermination = !props.properties.includes('EventuallyTerminates');

  const module = `---------------------------- MODULE ${moduleName} ----------------------------
(* Generated by \`ordo export\` from the system definition "${m.definition.name}": ${N} key(s), queue capacity ${C},
   faults ${m.faults.filter((f) => (m.options.faults[f] ?? 0) > 0).map((f) => `${f}=${m.options.faults[f]}`).join(', ') || 'none'}.
   Reply codes: ${m.replies.map((r, k) => `${k + 1}=${r}`).join(' ')}.
${m.participants.map((t) => `   ${t.participant.name} commands: ${t.commands.map((c, k) => `${k + 1}=${c}`).join(' ')}.`).join('\n')} *)
EXTENDS Naturals, Sequences, FiniteSets

Keys == 1..${N}
Capacity == ${C}
Faults == ${set(m.faults.map(str))}
InitialBudget == [f \\in Faults |-> CASE ${m.faults.map((f) => `f = ${str(f)} -> ${m.options.faults[f] ?? 0}`).join(' [] ')}]
Names == ${seq(tab.names.map(str))}
StateName(l) == Names[l + 1]
Final == ${set(finals.map(str))}

(* The machine as a table: <<from, input, to, ${pn.map((n) => `${n} commands`).join(', ')}>>. *)
Table == {
  ${rows.join(',\n  ')}
}
(* The machine states each local step passes through, for ValidStateTransitions. *)
Steps == {
  ${steps.join(',\n  ') || '<<-1, -1, {}>>'}
}
Allowed == ${set(allowedPairs)}
Listed == ${set(Object.keys(m.allowedTransitions).map(str))}

VARIABLES ${all.join(', ')}
vars == <<${all.join(', ')}>>

Init ==
  /\\ budget = InitialBudget
  /\\ o = [i \\in Keys |-> 0]
${pn.map((_, p) => `  /\\ ${lv(p)} = [i \\in Keys |-> 0]\n  /\\ ${sv(p)} = 0`).join('\n')}
${Array.from({ length: P + 1 }, (_, q) => `  /\\ ${qv(q)} = [i \\in Keys |-> <<>>]`).join('\n')}
  /\\ pk = [i \\in Keys |-> <<>>]

Spend(f) == budget' = [budget EXCEPT ![f] = @ - 1]
Quiet(i) == ${Array.from({ length: P + 1 }, (_, q) => `${qv(q)}[i] = <<>>`).join(' /\\ ')}

(* Parked replies (the runtime's parking): tried again, in passes, after a step that changes the key's state.
   Retry rows: <<local before the step, local after it, parked, local after the retry, still parked, ${pn.map((n) => `${n} commands`).join(', ')}>>. *)
Retry == {
  ${retryRows.join(',\n  ') || '<<-1, -1, <<>>, -1, <<>>' + pn.map(() => ', <<>>').join('') + '>>'}
}
Settle(i, t) == IF \\E r \\in Retry : r[1] = t[1] /\\ r[2] = t[3] /\\ r[3] = pk[i]
  THEN CHOOSE r \\in Retry : r[1] = t[1] /\\ r[2] = t[3] /\\ r[3] = pk[i]
  ELSE <<t[1], t[3], pk[i], t[3], pk[i]${pn.map(() => ', <<>>').join('')}>>

(* Key i takes row t of the machine table: new local state, commands appended to the participants' queues, then its parked replies retried. *)
Take(i, t) ==
  LET r == Settle(i, t) IN
  /\\ o' = [o EXCEPT ![i] = r[4]]
  /\\ pk' = [pk EXCEPT ![i] = r[5]]
${pn.map((_, p) => `  /\\ ${qv(p)}' = [${qv(p)} EXCEPT ![i] = @ \\o t[${4 + p}] \\o r[${6 + p}]]`).join('\n')}

MachineInput(i, input) ==
  /\\ \\E t \\in Table : t[1] = o[i] /\\ t[2] = input /\\ Take(i, t)
  /\\ ${unchanged([...machineVars, 'budget'])}

${envDefs.join('\n')}
Timers == {${Object.keys(tab.machine.delays).map((d) => str(`timer:${d}`)).join(', ')}}
Timer(i) ==
  /\\ \\E t \\in Table : t[1] = o[i] /\\ t[2] \\in Timers /\\ Take(i, t)
  /\\ IF Quiet(i) THEN UNCHANGED budget ELSE ${budgetGuard('timeout')}
  /\\ ${unchanged([...machineVars, 'budget'])}

(* A reply the current state neither accepts nor ignores is parked (a finished key's is dead-lettered). *)
Replies == ${seq(m.replies.map(str))}
HandleReply(i) ==
  /\\ qr[i] # <<>>
  /\\ qr' = [qr EXCEPT ![i] = Tail(@)]
  /\\ IF \\E t \\in Table : t[1] = o[i] /\\ t[2] = Replies[Head(qr[i])]
     THEN \\E t \\in Table : t[1] = o[i] /\\ t[2] = Replies[Head(qr[i])] /\\ Take(i, t)
     ELSE IF StateName(o[i]) \\in Final THEN UNCHANGED <<${machineVars.join(', ')}>>
     ELSE pk' = [pk EXCEPT ![i] = Append(@, Head(qr[i]))] /\\ UNCHANGED <<${machineVars.filter((v) => v !== 'pk').join(', ')}>>
  /\\ ${unchanged([...machineVars, 'qr'])}

(* The engine commits a reply's transition and crashes before the ack: the reply stays to be delivered again. *)
EngineCrash(i) ==
  /\\ qr[i] # <<>> /\\ ${budgetGuard('enginecrash')}
  /\\ IF \\E t \\in Table : t[1] = o[i] /\\ t[2] = Replies[Head(qr[i])]
     THEN \\E t \\in Table : t[1] = o[i] /\\ t[2] = Replies[Head(qr[i])] /\\ Take(i, t)
     ELSE UNCHANGED <<${machineVars.join(', ')}>>
  /\\ ${unchanged([...machineVars, 'budget'])}

(* relaycrash: the engine's outbox relay publishes a step's messages, crashes before saving its checkpoint and,
   restarted, publishes them again: the step's commands are appended twice. *)
TakeTwice(i, t) ==
  /\\ o' = [o EXCEPT ![i] = t[3]]
${pn.map((_, p) => `  /\\ ${qv(p)}' = [${qv(p)} EXCEPT ![i] = @ \\o t[${4 + p}] \\o t[${4 + p}]]`).join('\n')}
Sends(t) == ${pn.map((_, p) => `t[${4 + p}] # <<>>`).join(' \\/ ') || 'FALSE'}
SpendBoth(f, g) == budget' = [budget EXCEPT ![f] = @ - 1, ![g] = @ - 1]
RelayCrash(i) ==
  /\\ budget["relaycrash"] > 0
  /\\ \\/ \\E t \\in Table : t[1] = o[i] /\\ t[2] \\in ${set(m.envInputs.filter((e) => e.fault === undefined).map((e) => str(tab.inputs[e.k]?.name ?? '?')))} /\\ Sends(t) /\\ TakeTwice(i, t) /\\ Spend("relaycrash") /\\ UNCHANGED qr
${m.envInputs
  .filter((e) => e.fault !== undefined)
  .map((e) => `     \\/ \\E t \\in Table : t[1] = o[i] /\\ t[2] = ${str(tab.inputs[e.k]?.name ?? '?')} /\\ Sends(t) /\\ TakeTwice(i, t) /\\ budget[${str(e.fault ?? '')}] > 0 /\\ SpendBoth("relaycrash", ${str(e.fault ?? '')}) /\\ UNCHANGED qr`)
  .join('\n')}
     \\/ \\E t \\in Table : t[1] = o[i] /\\ t[2] \\in Timers /\\ Sends(t) /\\ TakeTwice(i, t) /\\ UNCHANGED qr
          /\\ IF Quiet(i) THEN Spend("relaycrash") ELSE budget["timeout"] > 0 /\\ SpendBoth("relaycrash", "timeout")
     \\/ qr[i] # <<>> /\\ \\E t \\in Table : t[1] = o[i] /\\ t[2] = Replies[Head(qr[i])] /\\ Sends(t) /\\ TakeTwice(i, t)
          /\\ qr' = [qr EXCEPT ![i] = Tail(@)] /\\ Spend("relaycrash")
  /\\ ${unchanged([...machineVars, 'qr', 'budget'])}

${partDefs.join('\n\n')}

(* Network faults on one queue of key i: duplicate the head, swap the first two, lose the head (the sender resends it last). *)
Duplicated(q) == <<Head(q), Head(q)>> \\o Tail(q)
Swapped(q) == <<q[2], q[1]>> \\o Tail(Tail(q))
Rotated(q) == Tail(q) \\o <<Head(q)>>
CanDup(q) == Len(q) >= 1 /\\ Len(q) < Capacity
TwoOrMore(q) == Len(q) >= 2
NonEmpty(q) == Len(q) >= 1
NetworkOn(i, Op(_), Enabled(_)) ==
${Array.from({ length: P + 1 }, (_, q) => `  \\/ Enabled(${queuesOf(q)}[i]) /\\ ${queuesOf(q)}' = [${queuesOf(q)} EXCEPT ![i] = Op(@)] /\\ UNCHANGED <<${Array.from({ length: P + 1 }, (_, r) => r).filter((r) => r !== q).map(queuesOf).join(', ')}>>`).join('\n')}
Network(i) ==
  /\\ \\/ ${budgetGuard('dup')} /\\ NetworkOn(i, Duplicated, CanDup)
     \\/ ${budgetGuard('reorder')} /\\ NetworkOn(i, Swapped, TwoOrMore)
     \\/ ${budgetGuard('loss')} /\\ NetworkOn(i, Rotated, NonEmpty)
  /\\ UNCHANGED <<o, pk, ${[...pn.map((_, p) => lv(p)), ...pn.map((_, p) => sv(p))].join(', ')}>>

(* A finished system stutters: TLC needs no -deadlock flag. *)
Done == (\\A i \\in Keys : StateName(o[i]) \\in Final /\\ Quiet(i)) /\\ UNCHANGED vars

(* Actors: the first ${fairActors.length} are weakly fair; the others (customers, the network, crashes) are not. *)
${m.actors.map((a) => `${actorName(a)} == \\E i \\in Keys : ${actorBody(a).join(' \\/ ')}`).join('\n')}

Next == ${m.actors.map(actorName).join(' \\/ ')} \\/ Done

Spec ==
  /\\ Init /\\ [][Next]_vars
  ${fairActors.map((a) => `/\\ WF_vars(${actorName(a)})`).join('\n  ')}

BoundedQueues == \\A i \\in Keys : ${Array.from({ length: P + 1 }, (_, q) => `Len(${qv(q)}[i]) <= Capacity`).join(' /\\ ')}
(* A parked reply still there when its key is final and quiet is stranded (the runtime dead-letters it). *)
NoStrandedMessages == \\A i \\in Keys : (StateName(o[i]) \\in Final /\\ Quiet(i)) => pk[i] = <<>>

(* ValidStateTransitions, legal TLA+: primes only inside [][...]_vars. *)
AllowedPair(p) == p \\in Allowed \\/ ~(p[1] \\in Listed /\\ p[2] \\in Listed)
ValidStep(i) == o'[i] # o[i] => \\E s \\in Steps : s[1] = o[i] /\\ s[2] = o'[i] /\\ \\A p \\in s[3] : AllowedPair(p)
ValidStateTransitions == [][\\A i \\in Keys : ValidStep(i)]_vars

${props.definitions}
${builtinTermination ? '\n(* Liveness (needs the WF conjuncts of Spec). *)\nEventuallyTerminates == \\A i \\in Keys : <>(StateName(o[i]) \\in Final)\n' : ''}
THEOREM Spec => []BoundedQueues
THEOREM Spec => []NoStrandedMessages
THEOREM Spec => ValidStateTransitions
${[...(builtinTermination ? ['EventuallyTerminates'] : []), ...props.properties].map((p) => `THEOREM Spec => ${p}`).join('\n')}
${props.invariants.map((p) => `THEOREM Spec => []${p}`).join('\n')}
=============================================================================
`;
  const cfg = `\\* TLC configuration for ${moduleName}.tla, generated by \`ordo export\`.
SPECIFICATION Spec
INVARIANT BoundedQueues
INVARIANT NoStrandedMessages
${props.invariants.map((p) => `INVARIANT ${p}\n`).join('')}PROPERTY ValidStateTransitions
${[...(builtinTermination ? ['EventuallyTerminates'] : []), ...props.properties].map((p) => `PROPERTY ${p}\n`).join('')}`;
  return { module, cfg };
}
