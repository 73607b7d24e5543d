import { createWakeup, globalPositionOf, LOG_CHANNEL, LOG_START, readOutgoingNotingHeld, saveCheckpoint, type Db, type GlobalPosition } from '../src/store/index.js';
import { createSagaEngine, type IncomingMessage, type SagaEngine } from '../src/runtime/index.js';
import { orderMachine } from '../src/shop/index.js';
import { summarise, type BenchRun } from './result.js';

/*
 * ordo's order saga run to DELIVERED by the engine on the PostgreSQL server, against
 * instant simulated services that read the engine's commands from the message log (the
 * outbox) and answer at once.
 */

/** Starts an order saga as the shop places one: the saga and its OrderCreated in one commit. */
export function startOrderSaga(engine: SagaEngine, id: string): Promise<unknown> {
  return engine.startSaga(id, 'order', { orderId: id, customerId: 'c', items: [{ sku: 's', quantity: 1, unitPrice: 100 }], total: 100 }, { first: { id: `create:${id}`, type: 'OrderCreated', payload: {} } });
}

export const STEPS_PER_SAGA = 6; // start, OrderCreated, InventoryReserved, PaymentApproved, PackageShipped, DeliveryConfirmed

const REPLIES: Record<string, (orderId: string) => { type: string; payload: object }[]> = {
  ReserveInventory: (o) => [{ type: 'InventoryReserved', payload: { reservationId: `r-${o}` } }],
  ProcessPayment: (o) => [{ type: 'PaymentApproved', payload: { paymentId: `p-${o}` } }],
  PrepareShipment: (o) => [
    { type: 'PackageShipped', payload: { trackingNumber: `t-${o}` } },
    { type: 'DeliveryConfirmed', payload: {} },
  ],
};

/**
 * Instant services: follow the log, answer every command, and notice finished orders.
 * Woken by the log's commits as a relay is (in-process on the Db that committed, LISTEN
 * elsewhere), looking again soon while an older transaction holds committed messages back;
 * a 50 ms poll stays as the fallback. With `checkpoint`, the position is saved as a
 * reader's checkpoint (retention waits for it).
 */
export async function serviceLoop(db: Db, engine: SagaEngine, onDelivered: (orderId: string) => void, stop: () => boolean, checkpoint?: string): Promise<void> {
  let at: GlobalPosition = LOG_START;
  const inflight: Promise<unknown>[] = [];
  const wakeup = createWakeup();
  const unlisten = await db.listen?.(LOG_CHANNEL, () => wakeup.notify());
  try {
    while (!stop()) {
      wakeup.clear(); // the read sees every commit notified so far
      // As a relay reads: only the messages with a topic (commands, published events).
      const { messages, heldBack, readTo } = await readOutgoingNotingHeld(db, at, 2000);
      const last = messages.at(-1);
      if (!last) {
        if (readTo) at = readTo;
        await wakeup.sleep(heldBack || !unlisten ? 1 : 50);
        continue;
      }
      at = readTo ?? globalPositionOf(last);
      if (checkpoint) await saveCheckpoint(db, checkpoint, at);
      const replies: IncomingMessage[] = [];
      for (const m of messages) {
        const key = typeof m.metadata['key'] === 'string' ? m.metadata['key'] : '';
        if (m.type === 'OrderDelivered') onDelivered(key);
        const answer = m.metadata['kind'] === 'command' ? REPLIES[m.type] : undefined;
        if (answer) for (const r of answer(key)) replies.push({ id: `${m.id}:${r.type}`, key, type: r.type, payload: r.payload });
      }
      // Do not wait: the engine groups these with the next round's replies.
      if (replies.length > 0) inflight.push(engine.deliver(replies));
      if (inflight.length > 8) await inflight.shift();
    }
    await Promise.all(inflight);
  } finally {
    await unlisten?.();
  }
}

/**
 * Closed loop: `inFlight` sagas at a time, a new one as soon as one is DELIVERED, for
 * `warmupSeconds` unmeasured and then `seconds` measured (sagas started in the window).
 */
export async function runOrdoSagas(db: Db, inFlight: number, seconds: number, prefix: string, warmupSeconds = 0): Promise<BenchRun> {
  const engine = createSagaEngine({ db, machines: [orderMachine], pollIntervalMs: 200, batchSize: 500, concurrency: 4 });
  await engine.start();
  const startedAt = new Map<string, number>();
  const latencies: number[] = [];
  let next = 0;
  let stopping = false;
  let finish: () => void = () => undefined;
  const allDone = new Promise<void>((r) => (finish = r));
  const launch = () => {
    const id = `${prefix}-${next++}`;
    startedAt.set(id, performance.now());
    void startOrderSaga(engine, id);
  };
  const t0 = performance.now() + warmupSeconds * 1000; // the measured window opens
  const until = t0 + seconds * 1000;
  let t1 = t0;
  const loop = serviceLoop(
    db,
    engine,
    (id) => {
      const s = startedAt.get(id);
      if (s === undefined) return;
      const now = performance.now();
      if (s >= t0) latencies.push(now - s);
      startedAt.delete(id);
      if (now < until) return launch();
      if (startedAt.size === 0 && !stopping) {
        stopping = true;
        t1 = now;
        finish();
      }
    },
    () => stopping,
  );
  for (let i = 0; i < inFlight; i++) launch();
  await allDone;
  await loop;
  await engine.stop();
  const elapsed = (t1 - t0) / 1000;
  const done = latencies.length;
  return summarise(`ordo order saga (${STEPS_PER_SAGA} steps), ${inFlight} in flight`, done, elapsed, latencies, { inFlight, system: 'ordo', stepsPerSec: (done * STEPS_PER_SAGA) / elapsed });
}
