import { randomUUID } from 'node:crypto';
import { appendToStream, ensurePostgresDatabase, migrateStore, openPostgres, type Db } from '../src/store/index.js';
import { machineDescription, progress, summarise, type BenchResult, type BenchRun } from './result.js';
import type { BenchOptions } from './bench-options.js';

/*
 * `ordo bench events`: appends to the message log against raw INSERTs of the same rows
 * (same columns, a plain table with the same indexes), same server, same concurrency,
 * same run. Runs alternate (raw, ordo, raw, ordo) so drift in the machine hits both.
 */

const DATABASE = 'ordo_bench';
const WRITERS = 16;
const BATCH = 100;
const BATCH_WRITERS = 4;
const ROUNDS = 2;

const RAW_TABLE = `
  DROP TABLE IF EXISTS bench_raw_messages;
  CREATE TABLE bench_raw_messages (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream text NOT NULL,
    stream_version integer NOT NULL CHECK (stream_version > 0),
    id text NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream, stream_version),
    UNIQUE (id)
  );
  CREATE INDEX bench_raw_messages_global_order ON bench_raw_messages (tx_id, position);`;

const RAW_INSERT = 'INSERT INTO bench_raw_messages (stream, stream_version, id, type, data, metadata) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)';
const RAW_INSERT_BATCH = `INSERT INTO bench_raw_messages (stream, stream_version, id, type, data, metadata)
  SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[])`;

interface Event {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

function event(stream: string, n: number): Event {
  return {
    id: randomUUID(),
    type: 'InventoryReserved',
    data: { orderId: stream, reservationId: `r-${n}`, items: [{ sku: `sku-${n % 50}`, quantity: 1 + (n % 3) }] },
    metadata: { topic: 'order-events', correlationId: stream, causationId: randomUUID() },
  };
}

interface Measured {
  ops: number;
  seconds: number;
  latencies: number[];
}

/** `writers` loops, each doing `perWriter` operations on its own stream; returns ops (messages) and latencies. */
async function measure(writers: number, perWriter: number, messagesPerOp: number, op: (stream: string, version: number, n: number) => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const stream = `order-${randomUUID()}`;
      let version = 0;
      for (let i = 0; i < perWriter; i++) {
        const t0 = process.hrtime.bigint();
        await op(stream, version, i);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        version += messagesPerOp;
      }
    }),
  );
  return { ops: writers * perWriter * messagesPerOp, seconds: Number(process.hrtime.bigint() - started) / 1e9, latencies };
}

async function reset(db: Db): Promise<void> {
  await db.query('TRUNCATE ordo_messages, bench_raw_messages RESTART IDENTITY');
}

function combine(runs: Measured[]): Measured {
  return { ops: runs.reduce((s, r) => s + r.ops, 0), seconds: runs.reduce((s, r) => s + r.seconds, 0), latencies: runs.flatMap((r) => r.latencies) };
}

export default async function events(options: BenchOptions): Promise<BenchResult> {
  const url = await ensurePostgresDatabase(options.postgresUrl, DATABASE);
  const db = openPostgres({ url, max: WRITERS + 2, applicationName: 'ordo-bench-events' });
  try {
    await migrateStore(db);
    if (db.exec) await db.exec(RAW_TABLE);
    const perWriter = Math.max(10, Math.round(400 * options.scale));
    const batchesPerWriter = Math.max(2, Math.round(40 * options.scale));

    const single = async (db: Db): Promise<{ ordo: Measured; raw: Measured }> => {
      const ordo: Measured[] = [];
      const raw: Measured[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        await reset(db);
        progress(`single appends, round ${round}/${ROUNDS}: raw INSERT, ${WRITERS} writers × ${perWriter}`);
        raw.push(
          await measure(WRITERS, perWriter, 1, async (stream, version, n) => {
            const e = event(stream, n);
            await db.query(RAW_INSERT, [stream, version + 1, e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)]);
          }),
        );
        await reset(db);
        progress(`single appends, round ${round}/${ROUNDS}: appendToStream, ${WRITERS} writers × ${perWriter}`);
        ordo.push(await measure(WRITERS, perWriter, 1, async (stream, version, n) => void (await appendToStream(db, stream, version, [event(stream, n)]))));
      }
      return { ordo: combine(ordo), raw: combine(raw) };
    };

    // The realistic shape: BEGIN, the append (or INSERT), COMMIT — as a handler's transaction does it.
    const inTransaction = async (db: Db): Promise<{ ordo: Measured; raw: Measured }> => {
      await reset(db);
      progress(`single appends in an explicit transaction: raw INSERT, ${WRITERS} writers × ${perWriter}`);
      const raw = await measure(WRITERS, perWriter, 1, async (stream, version, n) => {
        const e = event(stream, n);
        await db.transaction((tx) => tx.query(RAW_INSERT, [stream, version + 1, e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)]));
      });
      await reset(db);
      progress(`single appends in an explicit transaction: appendToStream, ${WRITERS} writers × ${perWriter}`);
      const ordo = await measure(WRITERS, perWriter, 1, async (stream, version, n) => void (await db.transaction((tx) => appendToStream(tx, stream, version, [event(stream, n)]))));
      return { ordo, raw };
    };

    const batched = async (db: Db): Promise<{ ordo: Measured; raw: Measured }> => {
      const ordo: Measured[] = [];
      const raw: Measured[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        await reset(db);
        progress(`batched appends, round ${round}/${ROUNDS}: raw INSERT of ${BATCH} rows, ${BATCH_WRITERS} writers × ${batchesPerWriter}`);
        raw.push(
          await measure(BATCH_WRITERS, batchesPerWriter, BATCH, async (stream, version, n) => {
            const es = Array.from({ length: BATCH }, (_, i) => event(stream, n * BATCH + i));
            await db.query(RAW_INSERT_BATCH, [
              es.map(() => stream),
              es.map((_, i) => version + i + 1),
              es.map((e) => e.id),
              es.map((e) => e.type),
              es.map((e) => JSON.stringify(e.data)),
              es.map((e) => JSON.stringify(e.metadata)),
            ]);
          }),
        );
        await reset(db);
        progress(`batched appends, round ${round}/${ROUNDS}: appendToStream of ${BATCH}, ${BATCH_WRITERS} writers × ${batchesPerWriter}`);
        ordo.push(
          await measure(BATCH_WRITERS, batchesPerWriter, BATCH, async (stream, version, n) => {
            await appendToStream(
              db,
              stream,
              version,
              Array.from({ length: BATCH }, (_, i) => event(stream, n * BATCH + i)),
            );
          }),
        );
      }
      return { ordo: combine(ordo), raw: combine(raw) };
    };

    // Warm up connections, caches and the JIT on both paths before measuring.
    progress('warming up');
    await measure(WRITERS, 20, 1, async (stream, version, n) => void (await appendToStream(db, stream, version, [event(stream, n)])));
    await measure(WRITERS, 20, 1, async (stream, version, n) => {
      const e = event(stream, n);
      await db.query(RAW_INSERT, [stream, version + 1, e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)]);
    });

    const s = await single(db);
    const x = await inTransaction(db);
    const b = await batched(db);
    const runs: BenchRun[] = [
      summarise(`ordo appendToStream single (${WRITERS} writers)`, s.ordo.ops, s.ordo.seconds, s.ordo.latencies, { unit: 'appends/s' }),
      summarise(`raw INSERT single (${WRITERS} writers)`, s.raw.ops, s.raw.seconds, s.raw.latencies, { unit: 'rows/s' }),
      summarise(`ordo BEGIN+append+COMMIT (${WRITERS} writers)`, x.ordo.ops, x.ordo.seconds, x.ordo.latencies, { unit: 'appends/s' }),
      summarise(`raw BEGIN+INSERT+COMMIT (${WRITERS} writers)`, x.raw.ops, x.raw.seconds, x.raw.latencies, { unit: 'rows/s' }),
      summarise(`ordo appendToStream ×${BATCH} (${BATCH_WRITERS} writers)`, b.ordo.ops, b.ordo.seconds, b.ordo.latencies, { unit: 'messages/s; latency per batch' }),
      summarise(`raw INSERT ×${BATCH} (${BATCH_WRITERS} writers)`, b.raw.ops, b.raw.seconds, b.raw.latencies, { unit: 'rows/s; latency per batch' }),
    ];
    const rate = (m: Measured): number => m.ops / m.seconds;
    return {
      suite: 'events',
      machine: machineDescription(),
      runs,
      ratios: {
        appendsVsRawInsert: rate(s.ordo) / rate(s.raw),
        appendsInTransactionVsRawInsert: rate(x.ordo) / rate(x.raw),
        batchedAppendsVsRawInsert: rate(b.ordo) / rate(b.raw),
      },
      notes: [
        `PostgreSQL server ${db.describe}, durability settings unchanged; "single" runs one statement per transaction (autocommit) on both sides, "BEGIN+…+COMMIT" three round trips on both sides`,
        `batched raw reference: one INSERT … SELECT FROM unnest(6 arrays) of ${BATCH} rows; ordo: one appendToStream of ${BATCH} messages`,
        `ordo appends check the expected stream version and the writer's transaction order in the same statement; raw INSERTs check nothing`,
        `target: appendsVsRawInsert >= 0.7`,
      ],
    };
  } finally {
    await db.close();
  }
}
