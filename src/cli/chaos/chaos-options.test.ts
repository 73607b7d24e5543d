import { describe, expect, it } from 'vitest';
import { ChaosFlagError, chaosOptionsFromFlags, plannedLoadMs, plannedOrders, type ChaosFlags } from './chaos-options.js';

const defaults: ChaosFlags = {
  postgres: 'postgres://postgres@127.0.0.1:5432/postgres',
  mode: 'orchestration',
  rate: '20',
  faults: 'kill,broker,pause',
  faultEvery: '5s',
  settleTimeout: '120s',
  ackWait: '5s',
  relayLease: '5s',
  paymentTimeout: '10s',
};
const parse = (flags: Partial<ChaosFlags>) => chaosOptionsFromFlags({ ...defaults, ...flags }, () => 1234);

describe('ordo chaos flags', () => {
  it('defaults to 60 s of load and a random seed, which the run reports', () => {
    const o = parse({});
    expect(o.load).toEqual({ kind: 'duration', durationMs: 60_000 });
    expect(o.seed).toBe(1234);
    expect(o.faults).toEqual(['kill', 'nats', 'pause']);
    expect(o.paymentTimeoutMs).toBe(10_000);
    expect(plannedOrders(o)).toBe(1200);
    expect(plannedLoadMs(o)).toBe(60_000);
  });

  it('kills the run\'s own broker for the broker fault: the nats-server, or Kafka with --kafka', () => {
    expect(parse({}).broker).toBe('nats');
    const kafka = parse({ kafka: true });
    expect(kafka).toMatchObject({ broker: 'kafka', faults: ['kill', 'kafka', 'pause'] });
    expect(parse({ kafka: true, faults: 'kafka,pause', kafkaJars: '/opt/kafka/libs' })).toMatchObject({ faults: ['kafka', 'pause'], kafkaJars: '/opt/kafka/libs' });
    // The old name of the NATS broker fault still works, in the same place of the list (same seed, same plan).
    expect(parse({ faults: 'kill,nats,pause' }).faults).toEqual(parse({}).faults);
  });

  it('reads durations, counts, a fixed seed and a fault list', () => {
    const o = parse({ orders: '60', rate: '10', seed: '7', faults: 'kill, nats,kill', faultEvery: '1500ms', settleTimeout: '2m', ackWait: '2' });
    expect(o.load).toEqual({ kind: 'orders', orders: 60 });
    expect(plannedLoadMs(o)).toBe(6000);
    expect(o).toMatchObject({ seed: 7, faults: ['kill', 'nats'], faultEveryMs: 1500, settleTimeoutMs: 120_000, ackWaitMs: 2000, mode: 'orchestration' });
    expect(parse({ faults: 'none' }).faults).toEqual([]);
    expect(parse({ duration: '90s' }).load).toEqual({ kind: 'duration', durationMs: 90_000 });
  });

  it.each([
    [{ mode: 'saga' }, /--mode must be orchestration or choreography, got "saga"/],
    [{ orders: '60', duration: '60s' }, /choose one: --orders N .* or --duration D/],
    [{ orders: '0' }, /--orders must be a whole number from 1/],
    [{ orders: '2.5' }, /--orders must be a whole number/],
    [{ duration: 'forever' }, /--duration must be a duration such as 90s/],
    [{ duration: '0s' }, /--duration must be between 1s and/],
    [{ rate: '0' }, /--rate must be a number of orders per second above 0/],
    [{ rate: 'fast' }, /--rate must be/],
    [{ seed: '-1' }, /--seed must be a whole number from 0 to 4294967295/],
    [{ faults: 'kill,reboot' }, /--faults takes a comma-separated list of kill, broker, pause \(or none; nats and kafka name the broker\), got "kill,reboot"/],
    [{ kafka: true, faults: 'kill,nats' }, /--faults nats: this run's broker is Kafka \(--kafka\); use broker \(or kafka\)/],
    [{ faults: 'kafka' }, /--faults kafka: this run's broker is a nats-server; use broker \(or nats\)/],
    [{ kafka: true, natsServer: '/usr/sbin/nats-server' }, /--nats-server applies to NATS runs/],
    [{ kafkaJars: '/tmp' }, /--kafka-jars applies to --kafka runs/],
    [{ faults: '' }, /--faults takes/],
    [{ faultEvery: '10ms' }, /--fault-every must be between 0.1s and/],
    [{ settleTimeout: 'x' }, /--settle-timeout must be a duration/],
    [{ ackWait: '100ms' }, /--ack-wait must be between 0.5s and/],
    [{ paymentTimeout: 'never' }, /--payment-timeout must be a duration/],
    [{ postgres: 'mysql://localhost' }, /--postgres must be a postgres:\/\/ URL/],
    [{ natsServer: ' ' }, /--nats-server must be the path of a nats-server binary/],
  ] as const)('rejects %o with a message naming the flag', (flags, message) => {
    expect(() => parse(flags)).toThrow(ChaosFlagError);
    expect(() => parse(flags)).toThrow(message);
  });
});
