// What the consumer test writes into a fresh project: a plain Node ESM script that calls
// one function of every public subpath, and two TypeScript files checked against the
// shipped declarations (one correct, one with a mistyped event).

export const MACHINE_TS = `
import { z } from 'zod';
import { setup, transition, start } from 'ordo/machine';

const { createMachine } = setup({
  context: z.object({ orderId: z.string() }),
  events: { Paid: z.object({ paymentId: z.string() }), Refused: z.object({ reason: z.string() }) },
});
export const payment = createMachine({
  id: 'payment', version: 1, initial: 'CHARGING',
  states: { CHARGING: { on: { Paid: 'PAID', Refused: 'FAILED' } }, PAID: { type: 'final' }, FAILED: { type: 'final' } },
});
const s0 = start(payment, { orderId: 'o1' });
`;

export const GOOD_TS = `${MACHINE_TS}
export const s1 = transition(payment, s0.snapshot, { type: 'Paid', paymentId: 'p1' });
`;

export const BAD_TS = `${MACHINE_TS}
export const s1 = transition(payment, s0.snapshot, { type: 'Payed', paymentId: 'p1' });
`;

/** Prints one line per subpath: the name and what its function returned. */
export const USE_MJS = `
import * as root from 'ordo';
import * as machine from 'ordo/machine';
import * as postgres from 'ordo/postgres';
import * as nats from 'ordo/nats';
import * as kafka from 'ordo/kafka';
import * as testing from 'ordo/testing';
import * as verify from 'ordo/verify';
import { z } from 'zod';

const { createMachine } = root.setup({ context: z.object({}), events: { Go: z.object({}) } });
const m = createMachine({ id: 'm', version: 1, initial: 'A', states: { A: { on: { Go: 'B' } }, B: { type: 'final' } } });
const db = await root.openPglite();
const one = (await db.query('SELECT 1 AS one')).rows[0].one;
await db.close();
console.log('ordo', root.transition(m, root.start(m, {}).snapshot, { type: 'Go' }).snapshot.state, one);
console.log('ordo/machine', machine.toMermaid(m).split('\\n')[0]);
const pg = postgres.openPostgres({ url: 'postgres://nobody@127.0.0.1:1/none' });
await pg.close();
console.log('ordo/postgres', pg.engine);
console.log('ordo/nats', await nats.createNatsTransport({ servers: 'nats://127.0.0.1:1' }).then(() => 'connected', () => 'refused'));
const t = kafka.namespacedTransport(root.createInProcessTransport(), 'shop');
await t.close();
console.log('ordo/kafka', typeof t.publish);
console.log('ordo/testing', new testing.VirtualClock(0).now());
console.log('ordo/verify', verify.checkMachine(m, { context: {} }).ok);
`;
