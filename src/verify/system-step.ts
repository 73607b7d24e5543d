import { KIND, type Emit, type SystemModel } from './system-model.js';

/** Calls `emit` once per enabled action with the successor in `t` (reused: copy it if you keep it). */
export function successors(m: SystemModel, s: Uint8Array, t: Uint8Array, emit: Emit): void {
  const tab = m.table;
  const I = tab.inputs.length;
  const C = m.options.capacity;
  const P = m.participants.length;
  const orchestrator = 0;
  const crashActor = m.actors.length - 1;
  // Which core faults have budget left in `s`, looked up once per state, not once per key and queue.
  const relay = m.has(s, 'relaycrash');
  const timeout = m.has(s, 'timeout');
  const engineCrash = m.has(s, 'enginecrash');
  const crash = m.has(s, 'crash');
  const dup = m.has(s, 'dup');
  const reorder = m.has(s, 'reorder');
  const loss = m.has(s, 'loss');
  for (let i = 0; i < m.options.keys; i++) {
    const l = s[m.base(i)] ?? 0;
    const oc = i << 8;
    for (const env of m.envInputs) {
      const e = l * I + env.k;
      if ((tab.next[e] ?? -1) < 0 || !tab.changed[e]) continue;
      // The input's fault budget by offset (a string lookup per key and input was a measurable cost).
      const fa = env.faultAt;
      if (fa !== -1 && (fa < 0 || s[fa] === 0)) continue;
      t.set(s);
      if (fa >= 0) t[fa] = (t[fa] as number) - 1;
      emit(t, env.actor, (KIND.environment << 16) | oc | env.k, m.applyMachine(t, i, e));
      // relaycrash: a step that publishes something may have it published twice (the relay crashed before its checkpoint).
      if (relay && (tab.sends[e]?.length ?? 0) > 0) {
        t.set(s);
        if (fa >= 0) t[fa] = (t[fa] as number) - 1;
        m.spend(t, 'relaycrash');
        emit(t, crashActor, (KIND.relayCrash << 16) | oc | env.k, m.applyMachine(t, i, e, 2));
      }
    }
    // A deadline surely passes while nothing is in flight for the key; the `timeout`
    // fault lets it pass early too, racing the messages still on their way.
    const quiet = m.quiet(s, i);
    if (quiet || timeout) {
      for (const k of m.timerInputs) {
        const e = l * I + k;
        if ((tab.next[e] ?? -1) < 0 || !tab.changed[e]) continue;
        t.set(s);
        if (!quiet) m.spend(t, 'timeout');
        emit(t, m.timerActor, (KIND.timer << 16) | oc | k, m.applyMachine(t, i, e));
        if (relay && (tab.sends[e]?.length ?? 0) > 0) {
          t.set(s);
          if (!quiet) m.spend(t, 'timeout');
          m.spend(t, 'relaycrash');
          emit(t, crashActor, (KIND.relayCrash << 16) | oc | k, m.applyMachine(t, i, e, 2));
        }
      }
    }
    if (m.migrateInput >= 0) {
      const e = l * I + m.migrateInput;
      if ((tab.next[e] ?? -1) >= 0) {
        t.set(s);
        m.applyMigration(t, i, e);
        emit(t, m.migratorActor, (KIND.migrate << 16) | oc | m.migrateInput, false);
      }
    }
    const rq = m.queueOffset(i, P);
    const rh = s[rq] ?? 0;
    if (rh !== 0) {
      const e = l * I + (rh - 1);
      const takes = (tab.next[e] ?? -1) >= 0;
      t.set(s);
      m.pop(t, rq);
      // A reply the state neither accepts nor ignores is parked, tried again when the key's state changes;
      // a finished key never takes it, so the runtime dead-letters it at once (consumed, the key unchanged).
      if (takes) emit(t, orchestrator, (KIND.deliver << 16) | oc, m.applyMachine(t, i, e));
      else {
        if (tab.final[l] !== 1) m.park(t, i, rh);
        emit(t, orchestrator, (KIND.deliver << 16) | oc, false);
      }
      if (relay && takes && (tab.sends[e]?.length ?? 0) > 0) {
        t.set(s);
        m.pop(t, rq);
        m.spend(t, 'relaycrash');
        emit(t, crashActor, (KIND.relayCrash << 16) | oc | (rh - 1), m.applyMachine(t, i, e, 2));
      }
      if (engineCrash) {
        // The engine commits the transition and crashes before the ack: the reply is delivered again
        // (a reply it parked is parked again under the same message id: one parked row, as without the crash).
        t.set(s);
        m.spend(t, 'enginecrash');
        emit(t, m.actors.length - 1, (KIND.engineCrash << 16) | oc, takes && m.applyMachine(t, i, e));
      }
    }
    for (let p = 0; p < P; p++) {
      const q = m.queueOffset(i, p);
      const h = s[q] ?? 0;
      if (h === 0) continue;
      const actor = m.participantActor[p] as number;
      const normal = m.entryOf(s, i, p, h, 0);
      if (normal >= 0) {
        t.set(s);
        m.pop(t, q);
        m.applyParticipant(t, i, p, normal);
        emit(t, actor, (KIND.handle << 16) | oc | p, false);
        if (crash) {
          // Handled and committed, then crashed before the ack: the command is delivered again.
          t.set(s);
          m.spend(t, 'crash');
          m.applyParticipant(t, i, p, normal);
          emit(t, m.actors.length - 1, (KIND.crash << 16) | oc | p, false);
        }
      }
      const choices = m.participants[p]?.choices[h - 1] ?? [];
      for (let x = 1; x < choices.length; x++) {
        const fault = choices[x]?.fault;
        if (fault === undefined || !m.has(s, fault)) continue;
        const e = m.entryOf(s, i, p, h, x);
        if (e < 0) continue;
        t.set(s);
        m.spend(t, fault);
        m.pop(t, q);
        m.applyParticipant(t, i, p, e);
        emit(t, actor, (KIND.choice << 16) | oc | (p << 4) | x, false);
      }
    }
    const network = m.actors.length - 2;
    for (let q = 0; q <= P; q++) {
      const qo = m.queueOffset(i, q);
      const len = m.qlen(s, qo);
      if (len === 0) continue;
      if (len < C && dup) {
        t.set(s);
        m.spend(t, 'dup');
        for (let k = len; k > 1; k--) t[qo + k] = t[qo + k - 1] ?? 0;
        t[qo + 1] = t[qo] ?? 0;
        emit(t, network, (KIND.dup << 16) | oc | q, false);
      }
      if (len >= 2 && reorder) {
        t.set(s);
        m.spend(t, 'reorder');
        t[qo] = s[qo + 1] ?? 0;
        t[qo + 1] = s[qo] ?? 0;
        emit(t, network, (KIND.reorder << 16) | oc | q, false);
      }
      if (loss) {
        // Lost in transit; the sender's outbox sends it again, behind what it sent since.
        t.set(s);
        m.spend(t, 'loss');
        for (let k = 0; k < len - 1; k++) t[qo + k] = s[qo + k + 1] ?? 0;
        t[qo + len - 1] = s[qo] ?? 0;
        emit(t, network, (KIND.loss << 16) | oc | q, false);
      }
    }
  }
}
