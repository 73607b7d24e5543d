import { describe, expect, it } from 'vitest';
import { createInProcessTransport } from './in-process.js';
import { acking, describeTransportContract, message, uniqueName, waitFor } from './transport-contract.js';

describeTransportContract('in-process', {
  create: () => Promise.resolve(createInProcessTransport({ redeliveryDelayMs: 5 })),
  brokerDedup: true,
  peer: (first) => Promise.resolve(first),
});

describe('in-process transport', () => {
  it('keeps dead letters in a list for inspection', async () => {
    const t = createInProcessTransport({ redeliveryDelayMs: 1 });
    const topic = uniqueName('dl');
    await t.subscribe({ topic, group: 'g', maxDeliver: 3, handler: () => Promise.reject(new Error('nope')) });
    await t.publish([message(topic, 'k', 1)]);
    await waitFor('a dead letter', () => t.deadLetters().length === 1);
    expect(t.deadLetters()[0]).toMatchObject({ attempts: 3, reason: 'nope', group: 'g' });
    await t.close();
  });

  it('gives a group that subscribes later the retained messages', async () => {
    const t = createInProcessTransport();
    const topic = uniqueName('late');
    await t.publish([message(topic, 'k', 1), message(topic, 'k', 2)]);
    const got: number[] = [];
    await t.subscribe({ topic, group: 'late', handler: acking((d) => got.push((d.message.payload as { seq: number }).seq)) });
    await waitFor('both', () => got.length === 2);
    expect(got).toEqual([1, 2]);
    await t.close();
  });

  it('delivers a duplicate again once the dedup window has passed', async () => {
    const t = createInProcessTransport({ dedupWindowMs: 1 });
    const topic = uniqueName('window');
    const got: string[] = [];
    await t.subscribe({ topic, group: 'g', handler: acking((d) => got.push(d.message.id)) });
    const m = message(topic, 'k', 1);
    await t.publish([m]);
    await new Promise((r) => setTimeout(r, 5));
    await t.publish([m]);
    await waitFor('two deliveries', () => got.length === 2);
    await t.close();
  });
});
