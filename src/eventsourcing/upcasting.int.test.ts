import { describe, expect, it } from 'vitest';
import { migrateStore, readStream, type Db } from '../store/index.js';
import { bothEngines, databaseForSuite } from '../testing/suite-database.js';
import { aggregateStream, handleCommand } from './command-handler.js';
import type { Decider } from './decider.js';
import { InvalidCommandError, UpcastError } from './errors.js';
import { migrateEventsourcing } from './eventsourcing-migrations.js';
import { readTimeline } from './timeline.js';
import { createUpcasters } from './upcasters.js';

const engines = bothEngines('es_up');

/** v2 of Deposited: integer cents. v1 (below) stored a decimal string of euros. */
type Deposited = { type: 'Deposited'; data: { cents: number } };
const wallet: Decider<number, { type: 'Deposit'; cents: number }, Deposited> = {
  initialState: () => 0,
  evolve: (balance, e) => (e.type === 'Deposited' ? balance + e.data.cents : balance),
  decide: (c) => {
    if (!Number.isInteger(c.cents) || c.cents <= 0) throw new InvalidCommandError('Deposit', ['cents must be a positive integer']);
    return [{ type: 'Deposited', data: { cents: c.cents } }];
  },
};
const upcasters = createUpcasters([{ type: 'Deposited', from: 1, upcast: (d) => ({ cents: Math.round(Number((d as { amount: string }).amount) * 100) }) }]);

describe.each(engines)('upcasting on %s', (_engine, open) => {
  let db: Db;
  databaseForSuite(open, async (d) => {
    await migrateStore(d);
    await migrateEventsourcing(d);
    // Events written by an older release, straight into the log: no schemaVersion, v1 shape.
    await d.query(
      `INSERT INTO ordo_messages (stream, stream_version, id, type, data, metadata) VALUES
        ('wallet-1', 1, 'legacy-1', 'Deposited', '{"amount":"12.50"}', '{"causationId":"import-7"}'),
        ('wallet-1', 2, 'legacy-2', 'Deposited', '{"amount":"0.25"}', '{}')`,
    );
  }, (d) => (db = d));

  it('reads v1 events as v2 through the registered upcaster', async () => {
    const loaded = await aggregateStream(db, wallet, 'wallet-1', { upcasters });
    expect(loaded).toMatchObject({ state: 1275, version: 2 });
  });

  it('without the upcaster the old shape would be misread (the test can fail)', async () => {
    const loaded = await aggregateStream(db, wallet, 'wallet-1');
    expect(Number.isNaN(loaded.state)).toBe(true);
  });

  it('appends new events at the current version and reads both kinds together', async () => {
    const r = await handleCommand(db, wallet, 'wallet-1', { type: 'Deposit', cents: 100 }, { upcasters });
    expect(r.state).toBe(1375);
    const stored = await readStream(db, 'wallet-1');
    expect(stored.map((m) => m.metadata['schemaVersion'] ?? 1)).toEqual([1, 1, 2]);
    const timeline = await readTimeline(db, 'wallet-1', { upcasters });
    expect(timeline.map((e) => e.data)).toEqual([{ cents: 1250 }, { cents: 25 }, { cents: 100 }]);
    expect(timeline[0]).toMatchObject({ version: 1, messageId: 'legacy-1', causationId: 'import-7' });
  });

  it('an event stored at a version newer than the code fails clearly', async () => {
    await db.query(`INSERT INTO ordo_messages (stream, stream_version, id, type, data, metadata) VALUES ('wallet-2', 1, 'future-1', 'Deposited', '{}', '{"schemaVersion":3}')`);
    await expect(aggregateStream(db, wallet, 'wallet-2', { upcasters })).rejects.toBeInstanceOf(UpcastError);
  });
});
