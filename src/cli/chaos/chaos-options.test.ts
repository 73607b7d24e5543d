import { describe, expect, it } from 'vitest';
import { ChaosFlagError, chaosOptionsFromFlags, plannedLoadMs, plannedOrders, type ChaosFlags } from './chaos-options.js';

const defaults: ChaosFlags = {
  postgres: 'postgres://postgres@127.0.0.1:5432/postgres',
  mode: 'orchestration',
  rate: '20',
  faults: 'kill,nats,pause',
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
    [{ faults: 'kill,reboot' }, /--faults takes a comma-separated list of kill, nats, pause \(or none\), got "kill,reboot"/],
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
