// A member that takes over the leases of a member that crashed must end up consuming, even
// when the broker goes away in between (seen in `ordo chaos --mode choreography`: the
// restarted payment service took its partitions, the broker was killed while it waited for
// the dead member's deliveries, and it never pulled again). Against a private nats-server,
// so the broker can be killed without touching the shared one.
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { privateNatsServer, type PrivateNatsServer } from './e2e/private-nats-server.js';
import { createNatsTransport, type NatsTransportOptions } from './nats.js';
import { LeaseCoordinator } from './nats-leases.js';
import type { NatsTraceEvent } from './nats-trace.js';
import { message, waitFor } from './transport-contract.js';
import type { Transport } from './transport.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stream = 'ORDO_LEASE_RECOVERY';
const open: Transport[] = [];
let server: PrivateNatsServer | undefined;

afterAll(async () => {
  await Promise.allSettled(open.map((t) => t.close()));
  await server?.dispose();
});

interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

describe('nats partition leases after a crash', () => {
  it('consumes again when the broker was killed while it waited to start the partitions it took over', async () => {
    server = await privateNatsServer();
    const logs: LogLine[] = [];
    const record = (level: string) => (fields: object, msg: string) => void logs.push({ level, msg, fields: fields as Record<string, unknown> });
    const trace: NatsTraceEvent[] = [];
    const options: NatsTransportOptions = {
      servers: server.url,
      stream,
      partitions: 4,
      ackWaitMs: 2_000,
      leaseTickMs: 200,
      leaseTtlMs: 1_000,
      logger: { info: record('info'), warn: record('warn'), error: record('error') },
    };

    // The member that crashed: it renewed its leases just now and will never renew again.
    const nc = await connect({ servers: server.url });
    const kv = await new Kvm(nc).create('ordo_groups', { history: 1, ttl: 24 * 3_600_000 });
    for (let p = 0; p < 4; p++) await kv.put(`${stream}.g.t.p.${p}`, JSON.stringify({ owner: 'crashed-member' }));
    await nc.close();

    const restarted = await createNatsTransport({ ...options, trace: (e) => trace.push(e) });
    open.push(restarted);
    const got = new Set<number>();
    await restarted.subscribe({ topic: 't', group: 'g', handler: (d) => Promise.resolve(void got.add((d.message.payload as { seq: number }).seq)) });
    const acquired = () => trace.filter((e) => e.event === 'acquire');
    await waitFor('the expired leases to be taken', () => new Set(acquired().map((e) => e.partition)).size === 4, 20_000);
    const startAt = Math.max(...acquired().map((e) => e.startAt ?? 0));
    expect(startAt, 'it waits for the crashed member\'s deliveries first').toBeGreaterThan(Date.now());

    // The broker goes away while it waits, and is still away when it tries to start pulling.
    await server.kill();
    await sleep(startAt - Date.now() + 1_500);
    await server.start();

    const publisher = await createNatsTransport(options);
    open.push(publisher);
    const sent = Array.from({ length: 40 }, (_, i) => message('t', `k${i % 8}`, i));
    await publisher.publish(sent);
    await waitFor('every message to be handled after the broker came back', () => got.size === sent.length, 45_000).catch((err: unknown) => {
      const lines = logs.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.fields)}`).join('\n');
      throw new Error(`${String(err)}; handled ${got.size}/${sent.length}; log:\n${lines}`);
    });
    expect(new Set(trace.filter((e) => e.event === 'start').map((e) => e.partition)).size, 'every partition started').toBe(4);
  });

  it('retries starting a held partition whose start failed, logs it, and runs it once the broker answers', async () => {
    server ??= await privateNatsServer();
    const nc = await connect({ servers: server.url });
    const kv = await new Kvm(nc).create('ordo_groups', { history: 1, ttl: 24 * 3_600_000 });
    const logs: LogLine[] = [];
    const record = (level: string) => (fields: object, msg: string) => void logs.push({ level, msg, fields: fields as Record<string, unknown> });
    const started = new Set<number>();
    let failuresLeft = 3;
    const coordinator = new LeaseCoordinator({
      kv,
      prefix: `${stream}.flaky.t`,
      partitions: 2,
      ackWaitMs: 1_000,
      tickMs: 100,
      leaseTtlMs: 500,
      logger: { info: record('info'), warn: record('warn'), error: record('error') },
      host: {
        start(p) {
          // The broker answered the lease write but not the consumer lookup that follows.
          if (p === 1 && failuresLeft-- > 0) return Promise.reject(new Error('timeout'));
          started.add(p);
          return Promise.resolve();
        },
        stop: (p) => Promise.resolve(void started.delete(p)).then(() => ({ clean: true })),
      },
    });
    try {
      await coordinator.start();
      await waitFor('both partitions to run', () => started.size === 2, 20_000);
      const retries = logs.filter((l) => l.level === 'warn' && /could not start pulling it; retrying/.test(l.msg));
      expect(retries.length, 'the first failure is logged').toBeGreaterThanOrEqual(1);
      expect(retries[0]?.fields).toMatchObject({ partition: 1, attempt: 1, err: 'timeout' });
      expect(logs.some((l) => l.level === 'info' && /started after failed attempts/.test(l.msg) && l.fields['attempts'] === 4)).toBe(true);
      expect(coordinator.fresh(1)).toBe(true);
    } finally {
      await coordinator.close();
      await nc.close();
    }
  });
});
