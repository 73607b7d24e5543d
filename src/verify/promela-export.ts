import type { ParticipantTable } from './participant-table.js';
import type { SystemDefinition, SystemRunOptions } from './system-definition.js';
import { SystemModel } from './system-model.js';
import { checkModel } from './system-checker.js';
import { notExportedLine, promelaProperties, promelaSyntax, renderProperties } from './property-exports.js';

const ident = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * A system as a Promela model for SPIN, generated from the same tables as the
 * checker: the machine's own transitions and each participant decider's own
 * answers on every reachable state (the exploration fills the tables first). One process runs `do :: d_step { guard -> action } ... od` with every
 * variable global and queues as byte arrays, so each SPIN state is exactly one packed
 * state of ours: `pan -DNOREDUCE` stores as many states as `ordo verify` reports
 * without symmetry reduction.
 */
export function toPromela(definition: SystemDefinition, run: SystemRunOptions): string {
  // The participants' tables are filled by running their deciders on every reachable state.
  const m = new SystemModel(definition, run);
  checkModel(m, { liveness: false });
  const { keys: N, capacity: C } = m.options;
  const tab = m.table;
  const I = tab.inputs.length;
  const P = m.participants.length;
  const out: string[] = [];
  const w = (line: string) => out.push(line);
  const budget = (f: string) => `b_${ident(f)}`;
  const has = (f: string) => m.budgetAt[f] !== undefined;
  const pname = (p: number) => ident(m.participants[p]?.participant.name ?? `p${p}`);
  const local = (p: number, i: number) => `l_${pname(p)}[${i}]`;
  const shared = (p: number) => `sh_${pname(p)}`;
  const queue = (q: number) => (q === P ? 'qr' : `q_${pname(q)}`);
  const quietOf = (i: number) => `(${Array.from({ length: P + 1 }, (_, q) => `${queue(q)}[${i * C}] == 0`).join(' && ')})`;
  const properties = renderProperties(m, promelaSyntax(m, { local, shared: (p) => ((m.sharedAt[p] ?? -1) >= 0 ? shared(p) : undefined), quiet: quietOf }));

  w(`/* ordo: system ${m.definition.name}, ${N} key(s), capacity ${C}`);
  w(`   faults: ${m.faults.filter(has).map((f) => `${f}=${m.options.faults[f] ?? 0}`).join(', ') || 'none'}`);
  w(`   machine local states (from the machine's transition function): ${tab.names.map((n, l) => `${l}=${n}`).join(' ')}`);
  w(`   reply codes: ${m.replies.map((r, k) => `${k + 1}=${r}`).join(' ')}`);
  m.participants.forEach((t, p) => {
    w(`   ${pname(p)}: commands ${t.commands.map((c, k) => `${k + 1}=${c}`).join(' ')}; ${t.locals.length} local states, ${t.shareds.length} shared states (from its decider)`);
  });
  w(`   properties: ${properties.invariants.length} invariant(s) and ${properties.liveness.length} liveness propert(ies) as ltl claims, one per pan run (pan -a -N <name>);`);
  w(`   ${notExportedLine(properties)}`);
  w('*/');
  w('');
  m.participants.forEach((_, p) => {
    if ((m.sharedAt[p] ?? -1) >= 0) w(`byte ${shared(p)} = 0;`);
  });
  for (const f of m.faults) if (has(f)) w(`byte ${budget(f)} = ${m.options.faults[f] ?? 0};`);
  w(`byte o[${N}];`);
  for (let p = 0; p < P; p++) w(`byte l_${pname(p)}[${N}];`);
  for (let q = 0; q <= P; q++) w(`byte ${queue(q)}[${N * C}];`);
  // Parked replies (declared only when the exploration parks one: an all-zero array adds no state).
  const parking = m.parkedSeen;
  if (parking) w(`byte pk[${N * C}];`);
  w('hidden byte m;');
  if (parking) w('hidden byte moved, progress, j, k;');
  w('');
  // Queues are packed to the front: push fills the first empty slot, pop shifts left.
  const push = (q: string, b: number, code: string): string => {
    let s = 'assert(false)';
    for (let k = C - 1; k >= 0; k--) s = `if :: ${q}[${b + k}] == 0 -> ${q}[${b + k}] = ${code} :: else -> ${s} fi`;
    return s;
  };
  const pop = (q: string, b: number): string => [...Array.from({ length: C - 1 }, (_, k) => `${q}[${b + k}] = ${q}[${b + k + 1}]`), `${q}[${b + C - 1}] = 0`].join('; ');
  /** Takes machine entry e for key i; `published` 2: its messages twice (relaycrash). */
  const applyMachine = (i: number, e: number, published = 1): string => {
    const parts = [`o[${i}] = ${tab.next[e] ?? 0}`];
    for (let n = 0; n < published; n++) for (const c of tab.sends[e] ?? []) parts.push(push(queue(c.service), i * C, String(c.code)));
    // The key's state (by name) changed: its parked replies are tried again at the end of the step.
    if (parking && tab.names[Math.floor(e / I)] !== tab.names[tab.next[e] ?? 0]) parts.push('moved = 1');
    return parts.join('; ');
  };
  const sends = (e: number) => (tab.sends[e]?.length ?? 0) > 0;
  const relay = has('relaycrash') ? budget('relaycrash') : undefined;
  /** The runtime's retry of parked replies (SystemModel.retryParked): passes in arrival order until one applies none. */
  const retry = (i: number): string => {
    if (!parking) return '';
    const b = i * C;
    const takes: string[] = [];
    // Only the entries a retry applies in some reachable state (the exploration is complete): any other pair keeps waiting.
    for (const e of [...m.parking.retried].sort((x, y) => x - y)) {
      const parts = [`o[${i}] = ${tab.next[e] ?? 0}`];
      for (const c of tab.sends[e] ?? []) parts.push(push(queue(c.service), b, String(c.code)));
      const remove = `k = j; do :: k < ${C - 1} -> pk[${b} + k] = pk[${b} + k + 1]; k++ :: else -> break od; pk[${b + C - 1}] = 0`;
      takes.push(`:: o[${i}] == ${Math.floor(e / I)} && m == ${(e % I) + 1} -> ${remove}; ${parts.join('; ')}; progress = 1`);
    }
    const pass = `j = 0; do :: j < ${C} && pk[${b} + j] != 0 -> m = pk[${b} + j]; if ${takes.join(' ')} :: else -> j++ fi :: else -> break od`;
    return `; if :: moved == 1 -> moved = 0; progress = 1; do :: progress == 1 -> progress = 0; ${pass} :: else -> break od :: else -> skip fi`;
  };
  const sharedIs = (p: number, g: number) => ((m.sharedAt[p] ?? -1) >= 0 ? ` && ${shared(p)} == ${g}` : '');
  /** The effects of one table entry: new local and shared state, replies, reactions. */
  const effects = (t: ParticipantTable, p: number, i: number, e: number, depth: number): string => {
    const parts = [`${local(p, i)} = ${t.nextLocal[e] ?? 0}`];
    if ((m.sharedAt[p] ?? -1) >= 0) parts.push(`${shared(p)} = ${t.nextShared[e] ?? 0}`);
    for (const r of t.replies[e] ?? []) parts.push(push('qr', i * C, String(r)));
    for (const r of t.reactions[e] ?? []) parts.push(handle(r.participant, i, String(r.code), 0, depth + 1, true));
    return parts.join('; ');
  };
  /** Participant p handles command `code` (a literal or `m`) with choice x: one branch per enabled table entry. */
  function handle(p: number, i: number, code: string, x: number, depth: number, literal = false, only?: readonly number[]): string {
    const t = m.participants[p] as ParticipantTable;
    if (depth > 4) throw new Error('reactions nest deeper than 4');
    const branches = t.known
      .filter(([, , c, cx]) => cx === x && (!literal || String(c) === code) && (!only || only.includes(c)))
      .map(([l, g, c, , e]) => `:: ${local(p, i)} == ${l}${sharedIs(p, g)}${literal ? '' : ` && ${code} == ${c}`} -> ${effects(t, p, i, e, depth)}`);
    return `if ${branches.join(' ')} :: else -> skip fi`;
  }
  /** Where participant p may take choice x on the head of its queue: the enabled entries as a guard. */
  const choiceGuard = (p: number, i: number, x: number, only: readonly number[]): string => {
    const t = m.participants[p] as ParticipantTable;
    const alts = t.known.filter(([, , c, cx]) => cx === x && only.includes(c)).map(([l, g, c]) => `(${local(p, i)} == ${l}${sharedIs(p, g)} && ${queue(p)}[${i * C}] == ${c})`);
    return alts.length === 0 ? 'false' : `(${alts.join(' || ')})`;
  };

  w('active proctype system() {');
  w('end:');
  w('  do');
  for (let i = 0; i < N; i++) {
    const b = i * C;
    const quiet = quietOf(i);
    w(`  /* ---- key ${i + 1} ---- */`);
    for (let k = 0; k < I; k++) {
      const inp = tab.inputs[k];
      if (!inp || inp.kind === 'reply') continue;
      const ls: number[] = [];
      for (let l = 0; l < tab.names.length; l++) if ((tab.next[l * I + k] ?? -1) >= 0 && tab.changed[l * I + k]) ls.push(l);
      if (ls.length === 0) continue;
      // The step as it is, then (relaycrash) the steps that publish something, published twice.
      const variants = [{ from: ls, published: 1, extra: '', note: '' }];
      const twice = ls.filter((l) => sends(l * I + k));
      if (relay !== undefined && twice.length > 0) variants.push({ from: twice, published: 2, extra: ` && ${relay} > 0`, note: ', relay publishes twice' });
      for (const v of variants) {
        const at = `(${v.from.map((l) => `o[${i}] == ${l}`).join(' || ')})${v.extra}`;
        const spendRelay = v.published === 2 ? `${relay ?? ''}--; ` : '';
        const branches = v.from.map((l) => `:: o[${i}] == ${l} -> ${applyMachine(i, l * I + k, v.published)}`).join(' ');
        if (inp.kind === 'timer') {
          const guard = has('timeout') ? `${at} && (${quiet} || ${budget('timeout')} > 0)` : `${at} && ${quiet}`;
          const spend = has('timeout') ? `if :: !${quiet} -> ${budget('timeout')}-- :: else -> skip fi; ` : '';
          w(`  :: d_step { ${guard} -> ${spend}${spendRelay}if ${branches} fi${retry(i)} } /* timer ${inp.name}${v.note} */`);
          continue;
        }
        const fault = m.envInputs.find((e) => e.k === k)?.fault;
        if (fault !== undefined) {
          if (!has(fault)) continue;
          w(`  :: d_step { ${at} && ${budget(fault)} > 0 -> ${budget(fault)}--; ${spendRelay}if ${branches} fi${retry(i)} } /* ${inp.name} (${fault})${v.note} */`);
        } else w(`  :: d_step { ${at} -> ${spendRelay}if ${branches} fi${retry(i)} } /* ${inp.name}${v.note} */`);
      }
    }
    // Reply delivery: entries that change nothing (ignored) only consume the message; one the state does not
    // take is parked (a finished key's is dead-lettered: consumed).
    const deliver: string[] = [];
    for (let l = 0; l < tab.names.length; l++) {
      for (let r = 1; r <= m.replies.length; r++) {
        const e = l * I + (r - 1);
        const nx = tab.next[e] ?? -1;
        if (nx < 0 || (nx === l && (tab.sends[e]?.length ?? 0) === 0)) continue;
        deliver.push(`:: o[${i}] == ${l} && qr[${b}] == ${r} -> ${pop('qr', b)}; ${applyMachine(i, e)}`);
      }
    }
    const parks = [...m.parking.parked].sort((x, y) => x - y).map((e) => `(o[${i}] == ${Math.floor(e / I)} && qr[${b}] == ${(e % I) + 1})`);
    const park = parks.length > 0 ? `:: ${parks.join(' || ')} -> m = qr[${b}]; ${pop('qr', b)}; ${push('pk', b, 'm')} ` : '';
    w(`  :: d_step { qr[${b}] != 0 -> if ${deliver.join(' ')} ${park}:: else -> ${pop('qr', b)} fi${retry(i)} } /* ${m.definition.orchestrator} handle a reply */`);
    if (relay !== undefined) {
      const twice: string[] = [];
      const at: string[] = [];
      for (let l = 0; l < tab.names.length; l++) {
        for (let r = 1; r <= m.replies.length; r++) {
          const e = l * I + (r - 1);
          if ((tab.next[e] ?? -1) < 0 || !sends(e)) continue;
          at.push(`(o[${i}] == ${l} && qr[${b}] == ${r})`);
          twice.push(`:: o[${i}] == ${l} && qr[${b}] == ${r} -> ${pop('qr', b)}; ${applyMachine(i, e, 2)}`);
        }
      }
      if (twice.length > 0) w(`  :: d_step { ${relay} > 0 && (${at.join(' || ')}) -> ${relay}--; if ${twice.join(' ')} fi${retry(i)} } /* ${m.definition.orchestrator} handle a reply, relay publishes twice */`);
    }
    if (has('enginecrash')) {
      const again = deliver.map((d) => d.replace(`${pop('qr', b)}; `, ''));
      w(`  :: d_step { qr[${b}] != 0 && ${budget('enginecrash')} > 0 -> ${budget('enginecrash')}--; if ${again.join(' ')} :: else -> skip fi${retry(i)} } /* engine handles a reply, crashes before ack */`);
    }

    for (let p = 0; p < P; p++) {
      const q = queue(p);
      const logic = handle(p, i, 'm', 0, 0);
      w(`  :: d_step { ${q}[${b}] != 0 -> m = ${q}[${b}]; ${pop(q, b)}; ${logic} } /* ${pname(p)} */`);
      if (has('crash')) w(`  :: d_step { ${q}[${b}] != 0 && ${budget('crash')} > 0 -> ${budget('crash')}--; m = ${q}[${b}]; ${logic} } /* ${pname(p)} handles, crashes before ack */`);
      const t = m.participants[p] as ParticipantTable;
      for (let x = 1; x < t.width; x++) {
        const faults = new Set(t.choices.map((cs) => cs[x]?.fault).filter((f): f is string => f !== undefined));
        for (const f of faults) {
          if (!has(f)) continue;
          const only = t.commands.map((_, c) => c + 1).filter((c) => t.choices[c - 1]?.[x]?.fault === f);
          const guard = choiceGuard(p, i, x, only);
          if (guard === 'false') continue;
          w(`  :: d_step { ${q}[${b}] != 0 && ${budget(f)} > 0 && ${guard} -> ${budget(f)}--; m = ${q}[${b}]; ${pop(q, b)}; ${handle(p, i, 'm', x, 0, false, only)} } /* ${pname(p)}: ${f} */`);
        }
      }
    }
    for (let qi = 0; qi <= P; qi++) {
      const q = queue(qi);
      if (has('dup')) {
        const shift = [...Array.from({ length: C - 2 }, (_, j) => C - 1 - j).map((k) => `${q}[${b + k}] = ${q}[${b + k - 1}]`), `${q}[${b + 1}] = ${q}[${b}]`].join('; ');
        w(`  :: d_step { ${q}[${b}] != 0 && ${q}[${b + C - 1}] == 0 && ${budget('dup')} > 0 -> ${budget('dup')}--; ${shift} } /* duplicate */`);
      }
      if (has('reorder')) w(`  :: d_step { ${q}[${b + 1}] != 0 && ${budget('reorder')} > 0 -> ${budget('reorder')}--; m = ${q}[${b}]; ${q}[${b}] = ${q}[${b + 1}]; ${q}[${b + 1}] = m } /* reorder */`);
      if (has('loss')) w(`  :: d_step { ${q}[${b}] != 0 && ${budget('loss')} > 0 -> ${budget('loss')}--; m = ${q}[${b}]; ${pop(q, b)}; ${push(q, b, 'm')} } /* lost, resent */`);
    }
  }
  w('  od');
  w('}');
  w('');
  for (const line of promelaProperties(properties)) w(line);
  return out.join('\n') + '\n';
}
