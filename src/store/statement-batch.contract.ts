import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Db, Statement } from './db.js';
import { ExpectedVersionConflictError, appendToStreamsStatement, readStream, runStatements } from './index.js';
import { runInTurn } from './statement-script.js';
import { migratedForSuite, rejection, uniqueStream, type ContractDatabase } from './contract-support.js';

/** Parameters that exercise the literal inlining: quotes, backslashes, placeholders and comment marks inside values, unicode, arrays, JSON. */
const awkward = ["it's", 'back\\slash', 'both \\\' and "', '$1 and $2', '-- not a comment', '/* nor this */', 'ünïcødé ✓ 🚀', 'line\nbreak', ''];

const probe: Statement = {
  sql: `SELECT $1::text AS a, $2::integer AS b, $3::text[] AS c, $4::jsonb AS d, $5::bigint::text AS e, $6::boolean AS f, $7::text AS g,
    '$1 stays' AS h, E'it''s \\\\ $2' AS i -- $3 in a comment
    /* $4 in another */`,
  params: [awkward.join('|'), 42, [...awkward, null], JSON.stringify({ q: awkward, n: 1.5 }), '9007199254740993', true, null],
};

/** Queryable.batch: several statements in one round trip (with the commit, when asked), as if run one by one. */
export function describeStatementBatchContract(name: string, open: () => Promise<ContractDatabase>): void {
  describe(`statement batches: ${name}`, () => {
    let db: Db;
    migratedForSuite(open, (d) => (db = d));
    const table = `batch_probe_${randomBytes(4).toString('hex')}`;
    const rows = async () => (await db.query<{ v: string }>(`SELECT v FROM ${table} ORDER BY v`)).rows.map((r) => r.v);

    it('returns what the statements return one by one, with parameters of every kind', async () => {
      await db.query(`CREATE TABLE ${table} (v text PRIMARY KEY)`);
      const one = await db.query(probe.sql, probe.params);
      const [batched, second] = await db.transaction((tx) => runStatements(tx, [probe, { sql: 'SELECT $1::integer + 1 AS n', params: [1] }]));
      expect(batched?.rows).toEqual(one.rows);
      expect(second?.rows).toEqual([{ n: 2 }]);
      expect(one.rows[0]).toMatchObject({ a: awkward.join('|'), c: [...awkward, null], h: '$1 stays', i: "it's \\ $2", e: '9007199254740993' });
    });

    it('commits with its last batch: the writes are there, and the transaction takes nothing more', async () => {
      const late = await rejection(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} (v) VALUES ($1)`, ['before']);
          await runStatements(tx, [{ sql: `INSERT INTO ${table} (v) VALUES ($1)`, params: ['in the batch'] }], { commit: true });
          await tx.query(`INSERT INTO ${table} (v) VALUES ($1)`, ['after']);
        }),
      );
      expect(String(late)).toMatch(/committed by its last batch/);
      expect(await rows()).toEqual(['before', 'in the batch']);
    });

    it('rolls everything back when a statement fails: what ran before it in the batch and in the transaction', async () => {
      const err = await rejection(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} (v) VALUES ($1)`, ['rolled back 1']);
          await runStatements(
            tx,
            [
              { sql: `INSERT INTO ${table} (v) VALUES ($1)`, params: ['rolled back 2'] },
              { sql: 'SELECT 1 / $1::integer', params: [0] },
              { sql: `INSERT INTO ${table} (v) VALUES ($1)`, params: ['never run'] },
            ],
            { commit: true },
          );
        }),
      );
      expect(err).toMatchObject({ code: '22012' });
      expect(await rows()).toEqual(['before', 'in the batch']);
      // A batch that opens the transaction (its BEGIN in the same round trip) rolls back as well.
      await rejection(db.transaction((tx) => runStatements(tx, [{ sql: `INSERT INTO ${table} (v) VALUES ($1)`, params: ['first'] }, { sql: `INSERT INTO ${table} (v) VALUES ($1)`, params: ['before'] }], { commit: true })));
      expect(await rows()).toEqual(['before', 'in the batch']);
    });

    it('sends what cannot be a literal (a NUL character) as parameters, with the same error as one by one', async () => {
      const bad: Statement = { sql: `INSERT INTO ${table} (v) VALUES ($1)`, params: ['nul\u0000inside'] };
      const alone = await rejection(db.transaction((tx) => runInTurn(tx, [bad])));
      const batched = await rejection(db.transaction((tx) => runStatements(tx, [bad], { commit: true })));
      expect((batched as { code?: string }).code).toBe((alone as { code?: string }).code);
      expect(await rows()).toEqual(['before', 'in the batch']);
    });

    it('checks an append inside the statement: a conflict rolls the batch back and reads as appendToStreams error', async () => {
      const stream = uniqueStream('checked');
      const ok = appendToStreamsStatement([{ stream, expectedVersion: 0, messages: [{ type: 'First', data: 1 }] }]);
      const [r] = await db.transaction((tx) => runStatements(tx, [ok.statement], { commit: true }));
      expect(r?.rows).toEqual([{ version: 0 }]);
      const stale = appendToStreamsStatement([{ stream, expectedVersion: 0, messages: [{ type: 'Again', data: 2 }] }]);
      const err = await rejection(db.transaction((tx) => runStatements(tx, [stale.statement, { sql: `INSERT INTO ${table} (v) VALUES ($1)`, params: ['not after a conflict'] }], { commit: true }).catch((e: unknown) => {
              throw stale.translate(e);
            })));
      expect(err).toBeInstanceOf(ExpectedVersionConflictError);
      expect(err).toMatchObject({ stream, actual: 1, retryable: true });
      expect((await readStream(db, stream)).map((m) => m.type)).toEqual(['First']);
      expect(await rows()).toEqual(['before', 'in the batch']);
      await db.query(`DROP TABLE ${table}`);
    });
  });
}
