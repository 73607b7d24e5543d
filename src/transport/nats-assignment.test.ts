import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { desiredOwner, liveMembers, planPartitions, type LeaseView, type PlanInput } from './nats-assignment.js';

const base = { partitions: 8, memberTtlMs: 5_000, leaseTtlMs: 5_000, ackWaitMs: 30_000, tickMs: 1_000 };
const now = 1_000_000;

function input(over: Partial<PlanInput> & Pick<PlanInput, 'me'>): PlanInput {
  return { ...base, now, members: new Map(), leases: new Map(), owned: new Set(), ...over };
}

const lease = (owner: string | null, writtenAt = now - 100, extra: Partial<LeaseView> = {}): LeaseView => ({ owner, revision: 7, writtenAt, ...extra });

describe('NATS partition assignment', () => {
  it('a lone member takes every partition, creating the leases, and pulls at once', () => {
    const plan = planPartitions(input({ me: 'a' }));
    expect(plan.acquire.map((a) => a.partition)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(plan.acquire.every((a) => a.revision === null && a.startAt === 0)).toBe(true);
  });

  it('two live members split the partitions, and the holder releases what the newcomer should own', () => {
    const members = new Map([
      ['a', now - 100],
      ['b', now - 100],
    ]);
    const leases = new Map(Array.from({ length: 8 }, (_, p) => [p, lease('a')] as const));
    const a = planPartitions(input({ me: 'a', members, leases, owned: new Set([0, 1, 2, 3, 4, 5, 6, 7]) }));
    expect(a.release).toEqual([1, 3, 5, 7]);
    expect(a.renew).toHaveLength(8); // keeps renewing while it drains
    // b waits: a still holds fresh leases.
    expect(planPartitions(input({ me: 'b', members, leases })).acquire).toEqual([]);
    // Once a released them cleanly, b takes them without waiting.
    const released = new Map([...leases].map(([p, l]) => [p, p % 2 === 1 ? lease(null, now, { clean: true, revision: 9 }) : l] as const));
    const b = planPartitions(input({ me: 'b', members, leases: released }));
    expect(b.acquire).toEqual([1, 3, 5, 7].map((partition) => ({ partition, revision: 9, startAt: 0 })));
  });

  it('an unclean release makes the next owner wait for ack_wait, so unacked deliveries come back first', () => {
    const plan = planPartitions(input({ me: 'a', leases: new Map([[0, lease(null, now - 2_000, { clean: false })]]) }));
    expect(plan.acquire[0]).toMatchObject({ partition: 0, startAt: now - 2_000 + 30_000 + 1_000 });
  });

  it('takes over from a silent member only once its lease expired, then waits until its deliveries are redeliverable', () => {
    const members = new Map([['dead', now - 60_000]]);
    const fresh = planPartitions(input({ me: 'a', members, leases: new Map([[0, lease('dead', now - 4_000)]]) }));
    expect(fresh.acquire.find((a) => a.partition === 0)).toBeUndefined();
    const expired = planPartitions(input({ me: 'a', members, leases: new Map([[0, lease('dead', now - 5_000)]]) }));
    expect(expired.acquire.find((a) => a.partition === 0)).toEqual({ partition: 0, revision: 7, startAt: now - 5_000 + 5_000 + 30_000 + 1_000 });
  });

  it('lets a new owner pull only after every delivery a stalled owner could still have kept alive is redeliverable (property)', () => {
    // The owner counts freshness from when it sent its last renewal (at or before the server's
    // writtenAt) and hands out or keeps alive deliveries until leaseTtl − tick after it; each
    // stays out for ack_wait after that. The taker's startAt must come after all of them.
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 5_000 }), fc.integer({ min: 3, max: 10 }), fc.integer({ min: 100, max: 60_000 }), fc.nat(10_000), (tickMs, ttlTicks, ackWaitMs, sentBefore) => {
        const leaseTtlMs = tickMs * ttlTicks;
        const writtenAt = now - leaseTtlMs;
        const lastFresh = writtenAt - sentBefore + leaseTtlMs - tickMs;
        const plan = planPartitions(input({ me: 'a', members: new Map([['dead', now - 60_000]]), leases: new Map([[0, lease('dead', writtenAt)]]), tickMs, leaseTtlMs, ackWaitMs }));
        const take = plan.acquire.find((a) => a.partition === 0);
        expect(take).toBeDefined();
        expect(take?.startAt).toBeGreaterThan(lastFresh + ackWaitMs);
      }),
    );
  });

  it('never plans for two members to take the same partition, and every partition has exactly one desired owner', () => {
    const id = fc.constantFrom('a', 'b', 'c', 'd');
    fc.assert(
      fc.property(
        fc.uniqueArray(id, { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ p: fc.nat(7), owner: fc.option(id, { nil: null }), age: fc.nat(40_000), clean: fc.boolean() }), { maxLength: 12 }),
        (ids, rawLeases) => {
          const members = new Map(ids.map((m) => [m, now - 100] as const));
          const leases = new Map(rawLeases.map((l) => [l.p, lease(l.owner, now - l.age, { clean: l.clean })] as const));
          const live = liveMembers({ now, me: ids[0] as string, members, memberTtlMs: base.memberTtlMs });
          const takers = new Map<number, string[]>();
          for (const me of ids) {
            const owned = new Set([...leases].filter(([, l]) => l.owner === me).map(([p]) => p));
            for (const a of planPartitions(input({ me, members, leases, owned })).acquire) takers.set(a.partition, [...(takers.get(a.partition) ?? []), me]);
          }
          for (const [p, who] of takers) {
            expect(who).toHaveLength(1);
            expect(who[0]).toBe(desiredOwner(live, p));
          }
        },
      ),
    );
  });
});
