import { describe, expect, it } from 'vitest';
import { runSpin, runSpinClaims, spinAvailable, spinForCounts } from '../../bench/spin.js';
import { provider, tripMachine, tripSystem, type Booking } from '../../examples/trip-booking/trip-system.js';
import { checkSystem, SystemModel, toPromela, viewOf, type TraceStep } from '../verify/index.js';
import { replayTrace } from './replay-trace.js';
import { shortestTrace as shortest } from './shortest-trace.js';

const status = (r: ReturnType<typeof checkSystem>) => Object.fromEntries(r.properties.map((p) => [p.name, p.status]));
const lines = (t: readonly TraceStep[]) => t.slice(1).map((s) => `${s.actor} ${s.order} ${s.action}`);
// A machine that forgets the hotel on a refused car: it cancels only the flight.
const bc = tripMachine.states.BOOKING_CAR;
const skipsHotel = { ...tripMachine, states: { ...tripMachine.states, BOOKING_CAR: { ...bc, on: { ...bc.on, CarUnavailable: (bc.on['CarUnavailable'] ?? []).map((t) => ({ ...t, target: 'CANCELING_FLIGHT' })) } } } } as unknown as ReturnType<typeof tripSystem>['machine'];
const ALL = { dup: 1, crash: 1, 'flight-refuses': 1, 'hotel-refuses': 1, 'car-refuses': 1 };

describe('the trip booking example (examples/trip-booking): a user system the generic checker verifies', () => {
  it('holds every property under every fault, and each property can be reached (not vacuous)', () => {
    const r = checkSystem(tripSystem({ keys: 2 }), { keys: 2, faults: ALL });
    expect(r.violations).toEqual([]);
    expect(Object.values(status(r)).every((s) => s === 'holds')).toBe(true);
    expect(status(checkSystem(tripSystem({ keys: 1 }), { keys: 1 }))['CompensationCompletes']).toBe('vacuous');
  });

  it('catches a provider whose cancel forgets to give the unit back (NoOverbooking), with the shortest trace', () => {
    // The flight's cancel keeps the seat: reached when the hotel refuses and the flight is undone.
    const flightLeaks = { ...provider('flight', 'Flight'), evolve: (s: { local: Booking; shared: number }, e: { type: string; payload: { tripId: string } }) => (e.type === 'Canceled' ? { ...s, local: 'canceled' as const } : provider('flight', 'Flight').evolve(s, e)) };
    const r2 = checkSystem(tripSystem({ keys: 1, providers: [flightLeaks, provider('hotel', 'Hotel'), provider('car', 'Car')] }), { keys: 1, faults: { 'hotel-refuses': 1 } });
    expect(r2.violations.map((v) => v.property)).toEqual(['NoOverbooking']);
    expect(lines(r2.violations[0]?.trace ?? [])).toEqual([
      'agency 1 send TripRequested',
      'flight 1 handle BookFlight',
      'agency 1 handle FlightBooked',
      'hotel 1 hotel-refuses BookHotel',
      'agency 1 handle HotelUnavailable',
      'flight 1 handle CancelFlight',
    ]);
  });

  it('catches a machine that forgets the hotel on a refused car (AllOrNothing), with the shortest trace', () => {
    const def = { ...tripSystem({ keys: 1 }), machine: skipsHotel };
    const r = checkSystem(def, { keys: 1, faults: { 'car-refuses': 1 } });
    expect(r.violations.map((v) => v.property)).toContain('AllOrNothing');
    const trace = r.violations.find((v) => v.property === 'AllOrNothing')?.trace ?? [];
    expect(trace.at(-1)?.keys[0]).toMatchObject({ state: 'CANCELED', participants: { hotel: 'booked', flight: 'canceled' } });
  });

  it.skipIf(!spinAvailable())('counts the same states as SPIN on its Promela export (N = 1, 2, 3, with and without faults)', () => {
    for (const [keys, faults] of [[1, {}], [2, {}], [3, {}], [1, ALL], [2, ALL], [3, { dup: 1, 'car-refuses': 1 }]] as const) {
      const def = tripSystem({ keys });
      const ordo = checkSystem(def, { keys, faults }, { liveness: false });
      const spin = runSpin(toPromela(def, { keys, faults }), spinForCounts(ordo.states));
      expect([keys, spin.states, spin.errors]).toEqual([keys, ordo.states, 0]);
    }
  }, 120_000);

  it.skipIf(!spinAvailable())('SPIN checks its properties as ltl claims: all hold under faults, and the hotel-forgetting machine breaks exactly what ordo finds', () => {
    const claims = (def: ReturnType<typeof tripSystem>, keys: number, faults: Record<string, number>) => {
      const runs = runSpinClaims(toPromela(def, { keys, faults }), [...def.invariants, ...def.liveness].map((p) => p.name), spinForCounts());
      return Object.entries(runs).filter(([, r]) => r.errors > 0).map(([name]) => name).sort();
    };
    expect(claims(tripSystem({ keys: 2 }), 2, ALL)).toEqual([]);
    const def = { ...tripSystem({ keys: 1 }), machine: skipsHotel };
    const faults = { 'car-refuses': 1 };
    const ordo = checkSystem(def, { keys: 1, faults }).violations.map((v) => v.property).sort();
    expect(ordo).toContain('AllOrNothing');
    expect(claims(def, 1, faults)).toEqual(ordo);
  }, 120_000);

  it('runs end to end on the real saga engine: a refused car unwinds the hotel, then the flight, exactly as checked', async () => {
    const m = new SystemModel(tripSystem({ keys: 1 }), { keys: 1, faults: { 'car-refuses': 1 } });
    const trace = shortest(m, (s) => viewOf(m, s).keys[0]?.state === 'CANCELED' && m.quiet(s, 0));
    expect(lines(trace).filter((l) => l.includes('handle Cancel'))).toEqual(['hotel 1 handle CancelHotel', 'flight 1 handle CancelFlight']);
    const r = await replayTrace(trace, { definition: tripSystem({ keys: 1 }) });
    expect(r.divergences).toEqual([]);
    expect(r.commands.map((c) => c.type)).toEqual(['BookFlight', 'BookHotel', 'BookCar', 'CancelHotel', 'CancelFlight']);
    expect(r.final.keys[0]).toMatchObject({ state: 'CANCELED', participants: { flight: 'canceled', hotel: 'canceled', car: 'refused' } });
  });
});
