import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { percentile } from './result.js';

/*
 * The floor under the shop's end-to-end latency, with no ordo in it: an order crosses the
 * same number of durable hops as in the shop (a message from the broker, one PostgreSQL
 * transaction that records it, a publish awaited until the broker persisted it, then the
 * ack), on raw node-pg and the raw NATS client, at the same arrival rate.
 */

export const SHOP_HOPS = 6; // orders → inventory → orders → payment → orders → shipping → orders

export interface FloorResult {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly chains: number;
}

export async function runHopFloor(postgresUrl: string, natsUrl: string, rate: number, seconds: number): Promise<FloorResult> {
  const id = randomBytes(3).toString('hex');
  const stream = `ORDO_FLOOR_${id.toUpperCase()}`;
  const table = `bench_floor_${id}`;
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 8 });
  pool.on('error', () => undefined);
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  try {
    await pool.query(`CREATE TABLE ${table} (chain text NOT NULL, hop int NOT NULL, at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (chain, hop))`);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    await jsm.consumers.add(stream, { durable_name: 'floor', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 1000 });
    const startedAt = new Map<string, number>();
    const latencies: number[] = [];
    const total = Math.max(1, Math.round(rate * seconds));
    let finish: () => void = () => undefined;
    const allDone = new Promise<void>((r) => (finish = r));
    const messages = await (await js.consumers.get(stream, 'floor')).consume({ max_messages: 256 });
    const handle = async (data: Uint8Array, ack: () => void) => {
      const { chain, hop } = JSON.parse(dec.decode(data)) as { chain: string; hop: number };
      await pool.query(`INSERT INTO ${table} (chain, hop) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [chain, hop]);
      if (hop < SHOP_HOPS) await js.publish(`${stream}.hop`, enc.encode(JSON.stringify({ chain, hop: hop + 1 })), { msgID: `${chain}:${hop + 1}` });
      ack();
      if (hop === SHOP_HOPS) {
        latencies.push(performance.now() - (startedAt.get(chain) ?? 0));
        if (latencies.length === total) finish();
      }
    };
    const loop = (async () => {
      for await (const m of messages) void handle(m.data, () => m.ack());
    })();
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = t0 + (i / rate) * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const chain = `c${i}`;
      startedAt.set(chain, performance.now());
      // The first hop is the order's creation: a transaction, then its first message.
      await pool.query(`INSERT INTO ${table} (chain, hop) VALUES ($1, 0)`, [chain]);
      void js.publish(`${stream}.hop`, enc.encode(JSON.stringify({ chain, hop: 1 })), { msgID: `${chain}:1` });
    }
    await Promise.race([allDone, new Promise((r) => setTimeout(r, 60_000))]);
    messages.stop();
    await loop;
    const sorted = latencies.sort((a, b) => a - b);
    return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), chains: sorted.length };
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await pool.end();
    await nc.close();
  }
}
