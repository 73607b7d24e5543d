import { isDeepStrictEqual } from 'node:util';
import { deciderFromMachine, foldEvents, TRANSITION, type MachineRecord, type TransitionData } from '../eventsourcing/index.js';
import type { Snapshot } from '../machine/index.js';
import type { SagaEngineOptions } from '../runtime/index.js';
import type { Queryable } from '../store/index.js';

type AnyMachine = SagaEngineOptions['machines'][number];

export interface SplitOrderOutcomeOptions {
  /** The engine's database (instances, its log, its inbox). */
  readonly engine: Queryable;
  /** The services' own database (`serveSimulatedServices`: sim_* tables, their inbox and outbox). */
  readonly services: Queryable;
  /** The order machine the engine ran (to replay every saga's timeline). */
  readonly machine: AnyMachine;
  /** The engine's inbox consumer (default `ordo-saga-engine`). */
  readonly consumer?: string;
  /** A transition fired by a machine timer is a violation (default true): with long timeouts, a lost message must not be hidden by one. */
  readonly forbidTimeouts?: boolean;
}

export interface SplitOrderOutcomeReport {
  readonly total: number;
  readonly byState: Readonly<Record<string, number>>;
  /** Everything that is wrong, one line each; empty when the run is sound. */
  readonly violations: readonly string[];
}

interface Effects {
  reserved: number;
  released: number;
  charged: number;
  refunded: number;
  shipped: number;
}

const TABLES = { reserved: 'sim_reservations', released: 'sim_releases', charged: 'sim_charges', refunded: 'sim_refunds', shipped: 'sim_shipments' } as const;

/**
 * `checkOrderOutcomes` for an engine and services with a database each (so with a broker
 * between them): every order finished, every side effect done once where the final state
 * needs it and never otherwise, every command the engine wrote handled by its service
 * exactly once, every reply the services wrote received by the engine, and each saga's
 * timeline a valid chain — replaying it with the machine (revisions 1, 2, 3…, no input
 * applied twice) gives the engine's snapshot.
 */
export async function checkSplitOrderOutcomes(o: SplitOrderOutcomeOptions): Promise<SplitOrderOutcomeReport> {
  const violations: string[] = [];
  const byState: Record<string, number> = {};
  const instances = await o.engine.query<{ id: string; state: string; status: string; stream: string; stream_version: number; snapshot: Snapshot }>(
    `SELECT id, state, status, machine_id || '-' || id AS stream, stream_version, snapshot FROM ordo_saga_instances WHERE machine_id = $1 ORDER BY id`,
    [o.machine.id],
  );
  const effects = new Map<string, Effects>();
  for (const [kind, table] of Object.entries(TABLES) as [keyof Effects, string][]) {
    const rows = await o.services.query<{ order_id: string; n: number }>(`SELECT order_id, count(*)::int AS n FROM ${table} GROUP BY order_id`);
    for (const r of rows.rows) {
      const e = effects.get(r.order_id) ?? { reserved: 0, released: 0, charged: 0, refunded: 0, shipped: 0 };
      e[kind] = r.n;
      effects.set(r.order_id, e);
    }
  }
  const streams = new Map<string, { version: number; type: string; data: unknown }[]>();
  const logged = await o.engine.query<{ stream: string; stream_version: number; type: string; data: unknown }>(
    `SELECT stream, stream_version, type, data FROM ordo_messages WHERE stream LIKE $1 ORDER BY stream, stream_version`,
    [`${o.machine.id}-%`],
  );
  for (const m of logged.rows) {
    const list = streams.get(m.stream) ?? [];
    list.push({ version: m.stream_version, type: m.type, data: m.data });
    streams.set(m.stream, list);
  }
  const decider = deciderFromMachine(o.machine);
  const known = new Set<string>();

  for (const i of instances.rows) {
    known.add(i.id);
    byState[i.state] = (byState[i.state] ?? 0) + 1;
    const bad = (why: string) => violations.push(`${i.id} (${i.state}): ${why}`);
    const e = effects.get(i.id) ?? { reserved: 0, released: 0, charged: 0, refunded: 0, shipped: 0 };
    for (const [kind, n] of Object.entries(e)) if (n > 1) bad(`${kind} ${n} times`);
    if (i.state === 'DELIVERED') {
      if (e.reserved !== 1 || e.charged !== 1 || e.shipped !== 1) bad(`delivered with reserved=${e.reserved} charged=${e.charged} shipped=${e.shipped}`);
      if (e.released + e.refunded > 0) bad('delivered but released or refunded');
    } else if (i.state === 'CANCELED') {
      if (e.reserved !== e.released) bad(`reserved ${e.reserved}, released ${e.released}`);
      if (e.charged !== e.refunded) bad(`charged ${e.charged}, refunded ${e.refunded}`);
      if (e.shipped > 0) bad('canceled but shipped');
    } else {
      bad(`not finished (status ${i.status})`);
    }

    const stream = streams.get(i.stream) ?? [];
    if (stream.length !== Number(i.stream_version)) bad(`stream holds ${stream.length} messages, instance says ${i.stream_version}`);
    const transitions = stream.filter((m) => m.type === TRANSITION).map((m) => m.data as TransitionData & { revision: number; trigger: { messageId?: string } });
    const applied = new Set<string>();
    let previousRevision = 0;
    let at: string | null = null;
    for (const t of transitions) {
      if (t.from !== at) bad(`a transition from ${String(t.from)} follows one to ${String(at)}`);
      at = t.to;
      // Revisions also count ignored inputs (`ordo.ignored`), so they rise but may skip.
      if (!(t.revision > previousRevision)) bad(`revision ${t.revision} after ${previousRevision}`);
      previousRevision = t.revision;
      const id = t.trigger.messageId;
      if (id !== undefined && applied.has(id)) bad(`message ${id} applied twice`);
      if (id !== undefined) applied.add(id);
      if (o.forbidTimeouts !== false && t.trigger.type === 'ordo.timer') bad(`timed out (${JSON.stringify(t.event)})`);
    }
    try {
      const folded = foldEvents(decider, transitions.map((data): MachineRecord => ({ type: TRANSITION, data })));
      // jsonb keeps its own key order, hence a deep comparison rather than JSON text.
      if (folded?.state !== i.snapshot.state || !isDeepStrictEqual(folded.context, i.snapshot.context)) {
        bad(`timeline replays to ${folded?.state ?? 'nothing'}, instance is at ${i.snapshot.state}`);
      }
    } catch (err) {
      bad(`timeline does not replay: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const id of effects.keys()) if (!known.has(id)) violations.push(`side effects for ${id}, which no saga knows`);

  const commands = await o.engine.query<{ id: string }>(`SELECT id FROM ordo_messages WHERE metadata->>'kind' = 'command'`);
  const handled = new Set((await o.services.query<{ message_id: string }>('SELECT message_id FROM sim_handled')).rows.map((r) => r.message_id));
  const commandIds = new Set(commands.rows.map((r) => r.id));
  for (const c of commandIds) if (!handled.has(c)) violations.push(`command ${c} never reached its service`);
  for (const h of handled) if (!commandIds.has(h)) violations.push(`a service handled ${h}, which the engine never sent`);
  const replies = await o.services.query<{ id: string }>(`SELECT id FROM ordo_messages WHERE stream LIKE 'sim-%'`);
  const received = new Set(
    (await o.engine.query<{ message_id: string }>('SELECT message_id FROM ordo_inbox WHERE consumer = $1', [o.consumer ?? 'ordo-saga-engine'])).rows.map((r) => r.message_id),
  );
  for (const r of replies.rows) if (!received.has(r.id)) violations.push(`reply ${r.id} never reached the engine`);
  return { total: instances.rows.length, byState, violations: violations.slice(0, 50).concat(violations.length > 50 ? [`… and ${violations.length - 50} more`] : []) };
}
