import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDelays } from '../machine/index.js';
import { createSagaEngine } from '../runtime/index.js';
import { orderMachine } from '../shop/index.js';
import { readStream } from '../store/index.js';
import { freshPglite, sampleOrder } from '../testing/index.js';
import { inSpan, outgoingTraceparent, traceFields, traceparentOf } from './index.js';

// A real SDK with the in-memory exporter, registered globally while this file runs and disabled after it (int files share their worker's modules, not its globals).
const exporter = new InMemorySpanExporter();
beforeAll(() => {
  new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();
});
afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

const CLIENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('ordo spans through @opentelemetry/api with an SDK registered', () => {
  it('runs work in a child span of a message’s traceparent, and logs carry its ids', async () => {
    exporter.reset();
    const seen = await inSpan('work', { parent: CLIENT }, () => Promise.resolve({ tp: traceparentOf(), fields: traceFields(), out: outgoingTraceparent(CLIENT) }));
    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(seen.tp).toBe(`00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`);
    expect(seen.out).toBe(seen.tp);
    expect(seen.fields).toEqual({ trace_id: span?.spanContext().traceId, span_id: span?.spanContext().spanId });
    // Outside any span: the parent's own traceparent, not a phantom child.
    expect(outgoingTraceparent(CLIENT)).toBe(CLIENT);
  });

  it('makes each committed transition a span under the input’s trace, and carries that trace on the commands it wrote', async () => {
    exporter.reset();
    const d = await freshPglite();
    const engine = createSagaEngine({ db: d.db, machines: [withDelays(orderMachine, { reservationTimeout: '10s', paymentTimeout: '10s', compensationTimeout: '1m' })], pollIntervalMs: false });
    await engine.start();
    try {
      await inSpan('http', { parent: CLIENT }, async () => {
        await engine.startSaga('t1', 'order', sampleOrder('t1'));
      });
      const http = exporter.getFinishedSpans().find((s) => s.name === 'http');
      const replyTp = '00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01';
      await engine.deliver([{ id: 'c1', key: 't1', type: 'OrderCreated', payload: {}, headers: { traceparent: replyTp } }]);
      const transitions = exporter.getFinishedSpans().filter((s) => s.attributes['ordo.saga_id'] === 't1');
      expect(transitions.map((s) => [s.attributes['ordo.from'], s.attributes['ordo.to'], s.parentSpanContext?.spanId])).toEqual([
        ['', 'INITIATED', http?.spanContext().spanId],
        ['INITIATED', 'INVENTORY_RESERVING', '1111111111111111'],
      ]);
      expect(transitions.every((s) => s.spanContext().traceId === '4bf92f3577b34da6a3ce929d0e0e4736')).toBe(true);
      const command = (await readStream(d.db, 'order-t1')).find((m) => m.type === 'ReserveInventory');
      expect(command?.metadata['traceparent']).toBe(replyTp);
    } finally {
      await engine.stop();
      await d.close();
    }
  });
});
