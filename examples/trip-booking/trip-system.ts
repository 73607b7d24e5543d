/**
 * A trip booking saga — flight, hotel, car hire, each with its compensation — as one
 * system definition: the machine the saga engine runs, the three providers as pure
 * deciders, and the properties. `ordo verify examples/trip-booking/trip-system.ts`
 * checks it under every fault; `ordo export … --format promela|tla` hands it to SPIN or TLC.
 */
import { z } from 'zod';
import { setup } from 'ordo/machine';
import { dataInvariant, dataLiveness, P, type Participant, type SystemDefinition } from 'ordo/verify';

const TripContext = z.object({ tripId: z.string(), failure: z.string().optional() });
const reason = z.object({ reason: z.string().default('unavailable') });
const ref = z.object({ tripId: z.string() });

const trip = setup({
  context: TripContext,
  events: {
    TripRequested: z.object({}),
    FlightBooked: z.object({}),
    FlightUnavailable: reason,
    FlightCanceled: z.object({}),
    HotelBooked: z.object({}),
    HotelUnavailable: reason,
    HotelCanceled: z.object({}),
    CarBooked: z.object({}),
    CarUnavailable: reason,
    CarCanceled: z.object({}),
  },
  messages: { BookFlight: ref, CancelFlight: ref, BookHotel: ref, CancelHotel: ref, BookCar: ref, CancelCar: ref },
  assign: { recordFailure: (ctx, ev) => (ctx.failure ? ctx : { ...ctx, failure: ev.type }) },
});
const { createMachine, send } = trip;

export const tripMachine = createMachine({
  id: 'trip',
  version: 1,
  description: 'Books a flight, then a hotel, then a car; a refusal undoes what was booked, in reverse order.',
  initial: 'REQUESTED',
  steps: {
    bookFlight: { action: send('flight', 'BookFlight', (c) => ({ tripId: c.tripId })), compensation: send('flight', 'CancelFlight', (c) => ({ tripId: c.tripId })) },
    bookHotel: { action: send('hotel', 'BookHotel', (c) => ({ tripId: c.tripId })), compensation: send('hotel', 'CancelHotel', (c) => ({ tripId: c.tripId })) },
    bookCar: { action: send('car', 'BookCar', (c) => ({ tripId: c.tripId })), compensation: send('car', 'CancelCar', (c) => ({ tripId: c.tripId })) },
  },
  states: {
    REQUESTED: { on: { TripRequested: 'BOOKING_FLIGHT' } },
    BOOKING_FLIGHT: {
      invoke: 'bookFlight',
      on: { FlightBooked: { target: 'BOOKING_HOTEL', completes: 'bookFlight' }, FlightUnavailable: { target: 'CANCELED', fails: 'bookFlight', assign: 'recordFailure' } },
    },
    BOOKING_HOTEL: {
      invoke: 'bookHotel',
      on: { HotelBooked: { target: 'BOOKING_CAR', completes: 'bookHotel' }, HotelUnavailable: { target: 'CANCELING_FLIGHT', fails: 'bookHotel', assign: 'recordFailure' } },
      // A provider answering a redelivered request again: the late duplicate changes nothing.
      ignore: ['FlightBooked'],
    },
    BOOKING_CAR: {
      invoke: 'bookCar',
      on: { CarBooked: { target: 'CONFIRMED', completes: 'bookCar' }, CarUnavailable: { target: 'CANCELING_HOTEL', fails: 'bookCar', assign: 'recordFailure' } },
      ignore: ['FlightBooked', 'HotelBooked'],
    },
    CANCELING_HOTEL: { tags: ['compensation'], compensate: 'bookHotel', on: { HotelCanceled: { target: 'CANCELING_FLIGHT', compensated: 'bookHotel' } }, ignore: ['FlightBooked', 'HotelBooked', 'CarUnavailable', 'CarCanceled'] },
    CANCELING_FLIGHT: {
      tags: ['compensation'],
      compensate: 'bookFlight',
      on: { FlightCanceled: { target: 'CANCELED', compensated: 'bookFlight' } },
      ignore: ['FlightBooked', 'FlightUnavailable', 'HotelBooked', 'HotelUnavailable', 'CarUnavailable', 'HotelCanceled'],
    },
    CONFIRMED: { type: 'final' },
    CANCELED: { type: 'final' },
  },
});

/** One provider's booking of one trip; its shared state is the units it has left (seats, rooms, cars). */
export type Booking = 'booked' | 'refused' | 'canceled' | undefined;
type Msg = { readonly type: string; readonly payload: { readonly tripId: string } };

/**
 * A provider as a pure decider: books from its shared stock of units, answers a duplicate
 * as before, cancels (a cancel that overtakes the booking leaves a tombstone). The world's
 * choice: the provider refuses though it has units (fault `<name>-refuses`).
 */
export function provider(name: string, noun: string): Participant<Booking, number, boolean, Msg, Msg> {
  const Noun = noun;
  return {
    name,
    initialLocal: () => undefined,
    internal: ['Booked', 'Refused', 'Canceled'],
    choices: { [`Book${Noun}`]: [{ value: false }, { fault: `${name}-refuses`, value: true, description: `the ${name} provider refuses` }] },
    decide(command, { local, shared }, refuses): Msg[] {
      const p = { tripId: command.payload.tripId };
      if (command.type === `Book${Noun}`) {
        if (local === 'booked') return [{ type: `${Noun}Booked`, payload: p }];
        if (local) return [{ type: `${Noun}Unavailable`, payload: p }];
        if (refuses || shared < 1) return [{ type: 'Refused', payload: p }, { type: `${Noun}Unavailable`, payload: p }];
        return [{ type: 'Booked', payload: p }, { type: `${Noun}Booked`, payload: p }];
      }
      return [{ type: 'Canceled', payload: p }, { type: `${Noun}Canceled`, payload: p }];
    },
    evolve(state, event) {
      if (event.type === 'Booked') return { local: 'booked', shared: state.shared - 1 };
      if (event.type === 'Refused') return { ...state, local: 'refused' };
      if (event.type === 'Canceled') return { local: 'canceled', shared: state.local === 'booked' ? state.shared + 1 : state.shared };
      return state;
    },
  };
}

const PROVIDERS = [provider('flight', 'Flight'), provider('hotel', 'Hotel'), provider('car', 'Car')];


/** The trip system for `keys` trips sharing `units` of each resource (default one fewer than trips). */
export function tripSystem(o: { keys: number; stock?: number; providers?: readonly Participant<Booking, number, boolean, Msg, Msg>[] }): SystemDefinition {
  const units = o.stock ?? Math.max(1, o.keys - 1);
  const providers = o.providers ?? PROVIDERS;
  const booked = (p: string, k: string) => P.isIn(P.local(p, k), 'booked');
  const anyBooked = (k: string) => P.or(...providers.map((p) => booked(p.name, k)));
  const refused = (k: string) => P.or(...providers.map((p) => P.isIn(P.local(p.name, k), 'refused')));
  return {
    name: 'trip',
    orchestrator: 'agency',
    machine: tripMachine,
    context: { tripId: 'trip-1' },
    participants: providers,
    wiring: { mode: 'orchestration' },
    initialShared: Object.fromEntries(providers.map((p) => [p.name, units])),
    environment: [{ event: 'TripRequested', actor: 'agency' }],
    invariants: [
      dataInvariant(
        'NoOverbooking',
        'units left + units booked = units at the start, for every provider',
        P.and(...providers.map((p) => P.cmp(P.add(P.value(P.shared(p.name)), P.count('k', booked(p.name, 'k'))), '==', P.num(units)))),
      ),
      dataInvariant(
        'AllOrNothing',
        'a finished trip holds every booking (CONFIRMED) or none (CANCELED)',
        P.forall('k', P.implies(P.quiet('k'), P.and(P.implies(P.state('k', 'CANCELED'), P.not(anyBooked('k'))), P.implies(P.state('k', 'CONFIRMED'), P.and(...providers.map((p) => booked(p.name, 'k'))))))),
      ),
    ],
    liveness: [
      dataLiveness('EventuallyFinishes', 'every trip ends CONFIRMED or CANCELED', P.exists('k', P.not(P.final('k'))), P.bool(true)),
      dataLiveness(
        'CompensationCompletes',
        'a trip refused anywhere ends CANCELED holding nothing',
        P.exists('k', P.and(refused('k'), P.or(P.not(P.state('k', 'CANCELED')), anyBooked('k')))),
        P.exists('k', refused('k')),
      ),
    ],
  };
}

/** What `ordo verify <this file>` loads. */
export const system = tripSystem;
