import pg from 'pg';
import { summarise, type BenchRun } from './result.js';

/*
 * The floor any durable step pays: one transaction that updates a state row and appends a
 * log row (UPDATE + INSERT), committed with the server's own durability settings.
 */

const MAX_CONNECTIONS = 32;

/** Closed loop of `inFlight` callers: `warmupSeconds` unmeasured, then `seconds` measured. */
export async function runRawPostgres(url: string, inFlight: number, seconds: number, warmupSeconds = 0): Promise<BenchRun> {
  const connections = Math.min(inFlight, MAX_CONNECTIONS);
  const pool = new pg.Pool({ connectionString: url, max: connections });
  pool.on('error', () => undefined); // an idle connection dropped by the server: the next query reports it, the process does not die
  try {
    await pool.query('DROP TABLE IF EXISTS bench_raw_state, bench_raw_log');
    await pool.query('CREATE TABLE bench_raw_state (id text PRIMARY KEY, state text NOT NULL, revision integer NOT NULL, snapshot jsonb NOT NULL)');
    await pool.query('CREATE TABLE bench_raw_log (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, stream text NOT NULL, type text NOT NULL, data jsonb NOT NULL)');
    await pool.query(`INSERT INTO bench_raw_state SELECT 's' || g, 'A', 0, '{}'::jsonb FROM generate_series(1, $1) g`, [inFlight]);
    const latencies: number[] = [];
    let ops = 0;
    let n = 0;
    const t0 = performance.now() + warmupSeconds * 1000; // the measured window opens
    const until = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: inFlight }, async (_, i) => {
        const id = `s${i + 1}`;
        while (performance.now() < until) {
          const s = performance.now();
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query(`UPDATE bench_raw_state SET state = 'B', revision = revision + 1, snapshot = $2::jsonb WHERE id = $1`, [id, JSON.stringify({ state: 'B', n })]);
            await c.query('INSERT INTO bench_raw_log (stream, type, data) VALUES ($1, $2, $3::jsonb)', [id, 'Step', JSON.stringify({ n })]);
            await c.query('COMMIT');
          } finally {
            c.release();
          }
          n += 1;
          if (s < t0) continue;
          ops += 1;
          latencies.push(performance.now() - s);
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    return summarise(`raw PostgreSQL UPDATE+INSERT tx, ${inFlight} in flight over ${connections} connections`, ops, elapsed, latencies, { inFlight, system: 'raw' });
  } finally {
    await pool.query('DROP TABLE IF EXISTS bench_raw_state, bench_raw_log').catch(() => undefined);
    await pool.end();
  }
}
