import { describe, expect, it } from 'vitest';
import { DOWN_MS, KAFKA_TARGET, NATS_TARGET, planFaults, type FaultPlanOptions } from './fault-schedule.js';

const SERVICES = ['orders', 'inventory', 'payment', 'shipping', 'gateway'];
const base: FaultPlanOptions = { seed: 42, horizonMs: 60_000, meanGapMs: 5000, kinds: ['kill', 'nats', 'pause'], services: SERVICES };

describe('the fault plan', () => {
  it('is fixed by the seed: same seed, same plan; another seed, another plan', () => {
    expect(planFaults(base)).toEqual(planFaults(base));
    expect(planFaults({ ...base, seed: 43 })).not.toEqual(planFaults(base));
  });

  it('fills the load with faults that never overlap, each within its bounds', () => {
    const plan = planFaults(base);
    expect(plan.length).toBeGreaterThan(3);
    for (const [i, f] of plan.entries()) {
      expect(f.atMs).toBeLessThan(base.horizonMs);
      const [min, max] = DOWN_MS[f.kind];
      expect(f.downMs).toBeGreaterThanOrEqual(min);
      expect(f.downMs).toBeLessThanOrEqual(max);
      expect(f.kind === 'nats' ? f.target === NATS_TARGET : SERVICES.includes(f.target)).toBe(true);
      const prev = plan[i - 1];
      // The gap after a fault is at least half the mean.
      if (prev) expect(f.atMs - (prev.atMs + prev.downMs)).toBeGreaterThanOrEqual(base.meanGapMs / 2);
    }
  });

  it('uses every kind and every service it may, and only those', () => {
    const plan = planFaults({ ...base, horizonMs: 3_600_000 });
    expect(new Set(plan.map((f) => f.kind))).toEqual(new Set(['kill', 'nats', 'pause']));
    expect(new Set(plan.filter((f) => f.kind !== 'nats').map((f) => f.target))).toEqual(new Set(SERVICES));
    const killsOnly = planFaults({ ...base, kinds: ['kill'], services: ['payment'] });
    expect(killsOnly.every((f) => f.kind === 'kill' && f.target === 'payment')).toBe(true);
  });

  it('kills the Kafka broker at the same times as the nats-server in a NATS run with the same seed', () => {
    const nats = planFaults(base);
    const kafka = planFaults({ ...base, kinds: ['kill', 'kafka', 'pause'] });
    expect(kafka.map((f) => ({ ...f, kind: f.kind === 'kafka' ? 'nats' : f.kind, target: f.target === KAFKA_TARGET ? NATS_TARGET : f.target }))).toEqual(nats);
    expect(kafka.some((f) => f.kind === 'kafka' && f.target === KAFKA_TARGET)).toBe(true);
  });

  it('is empty without kinds or time, and refuses kill and pause without services', () => {
    expect(planFaults({ ...base, kinds: [] })).toEqual([]);
    expect(planFaults({ ...base, horizonMs: 0 })).toEqual([]);
    expect(planFaults({ ...base, kinds: ['nats'], services: [] }).length).toBeGreaterThan(0);
    expect(planFaults({ ...base, kinds: ['kafka'], services: [] }).length).toBeGreaterThan(0);
    expect(() => planFaults({ ...base, services: [] })).toThrow(/need at least one service/);
  });
});
