import { OrdoError, TIMER_EVENT, adjacency, delayOfTimer, start, transition, type AnyEvent, type Machine, type Snapshot, type TransitionStep } from '../machine/index.js';
import { ModelBoundError, ModelOptionsError } from './errors.js';
import { samplePayload } from './sample-payload.js';
import { snapshotKey } from './snapshot-key.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

/** Service queues an order sends commands to, in layout order. */
export const SERVICES = ['inventory', 'payment', 'shipping'] as const;
export type Service = (typeof SERVICES)[number];

/** Command codes per service queue (0 is an empty slot). */
export const COMMANDS: Readonly<Record<Service, readonly string[]>> = {
  inventory: ['ReserveInventory', 'ReleaseInventory'],
  payment: ['ProcessPayment', 'RefundPayment'],
  shipping: ['PrepareShipment'],
};

/** Replies the services send back to an order; code = index + 1 in the order's reply queue. */
export const REPLIES = [
  'InventoryReserved',
  'InventoryInsufficient',
  'ReservationReleased',
  'ReleaseFailed',
  'PaymentApproved',
  'PaymentRefused',
  'PaymentRefunded',
  'RefundFailed',
  'PackageShipped',
  'ShipmentFailed',
] as const;
export type Reply = (typeof REPLIES)[number];
export const reply = (name: Reply): number => REPLIES.indexOf(name) + 1;

/** Events from outside the services: the orders service, the customer, the carrier, an operator. */
export const ENVIRONMENT = ['OrderCreated', 'CancelRequested', 'DeliveryConfirmed', 'CompensationRetried'] as const;

export interface LocalInput {
  readonly kind: 'reply' | 'environment' | 'timer';
  /** Event type, or the delay name for a timer. */
  readonly name: string;
}

export interface LocalCommand {
  readonly service: number;
  readonly code: number;
}

/**
 * One order's behaviour as a finite table, computed by calling the machine's own
 * `transition()` on every reachable (abstracted) snapshot and every input. The
 * system checker and the Promela/TLA+ exports read this table, so all three
 * describe exactly the transitions the runtime takes.
 */
export interface LocalTable {
  readonly machine: AnyMachine;
  readonly snapshots: readonly Snapshot[];
  /** Machine state name per local state. */
  readonly names: readonly string[];
  readonly final: Uint8Array;
  readonly inputs: readonly LocalInput[];
  /** next[l * inputs + k]: the next local state, -1 if rejected (not accepted here), -2 if not applicable (timer not armed). */
  readonly next: Int16Array;
  /** Whether the input changed the snapshot (false: accepted and deliberately ignored). */
  readonly changed: Uint8Array;
  readonly sends: readonly (readonly LocalCommand[])[];
  readonly paths: readonly (readonly TransitionStep[])[];
  /** Per entry: 1 when a state change in its path is outside `allowedTransitions`. */
  readonly invalid: Uint8Array;
  readonly inputIndex: (kind: LocalInput['kind'], name: string) => number;
}

export interface LocalTableOptions {
  readonly context: unknown;
  /**
   * ValidStateTransitions: a table of allowed changes (e.g. the seed's, plus documented extensions).
   * It constrains changes between states it lists; other changes must follow a machine edge.
   */
  readonly allowedTransitions?: Readonly<Record<string, readonly string[]>>;
  readonly maxLocalStates?: number;
}

export function buildLocalTable(machine: AnyMachine, options: LocalTableOptions): LocalTable {
  for (const name of [...REPLIES, 'OrderCreated']) {
    if (!(name in machine.eventSchemas)) throw new ModelOptionsError('machine', `the order system model needs the machine to accept ${name}`);
  }
  const inputs: LocalInput[] = [
    ...REPLIES.map((name) => ({ kind: 'reply' as const, name })),
    ...ENVIRONMENT.filter((n) => n in machine.eventSchemas).map((name) => ({ kind: 'environment' as const, name })),
    ...Object.keys(machine.delays).map((name) => ({ kind: 'timer' as const, name })),
  ];
  const payloads = inputs.map((inp) => (inp.kind === 'timer' ? undefined : ({ ...samplePayload(inp.name, machine.eventSchemas[inp.name] as never), type: inp.name })));
  const I = inputs.length;
  const maxLocal = options.maxLocalStates ?? 4096;
  const allowed = options.allowedTransitions;
  const machineEdges = adjacency(machine);

  const snapshots: Snapshot[] = [];
  const ids = new Map<string, number>();
  const next: number[] = [];
  const changed: number[] = [];
  const sends: LocalCommand[][] = [];
  const paths: TransitionStep[][] = [];
  const invalid: number[] = [];
  const intern = (s: Snapshot): number => {
    const key = snapshotKey(s);
    const known = ids.get(key);
    if (known !== undefined) return known;
    if (snapshots.length >= maxLocal) throw new ModelBoundError('maxLocalStates', maxLocal, 'the order machine has too many distinct snapshots for the system model');
    ids.set(key, snapshots.length);
    snapshots.push(s);
    return snapshots.length - 1;
  };
  const commandsOf = (effects: readonly { kind: string; to?: string; message?: string }[]): LocalCommand[] => {
    const out: LocalCommand[] = [];
    for (const e of effects) {
      if (e.kind !== 'send') continue;
      const service = SERVICES.indexOf(e.to as Service);
      const code = service < 0 ? -1 : (COMMANDS[e.to as Service].indexOf(e.message ?? '') ?? -1);
      if (service < 0 || code < 0) throw new ModelOptionsError('machine', `the order system model has no service handling ${e.message ?? '?'} sent to ${e.to ?? '?'}`);
      out.push({ service, code: code + 1 });
    }
    return out;
  };

  intern(start(machine, options.context).snapshot);
  for (let l = 0; l < snapshots.length; l++) {
    const s = snapshots[l] as Snapshot;
    for (let k = 0; k < I; k++) {
      const inp = inputs[k] as LocalInput;
      let ev: AnyEvent | undefined = payloads[k];
      if (inp.kind === 'timer') {
        const timer = s.timers.find((t) => delayOfTimer(t) === inp.name);
        ev = timer === undefined ? undefined : { type: TIMER_EVENT, timer };
      }
      let entry = -2;
      let ch = 0;
      let cmds: LocalCommand[] = [];
      let path: TransitionStep[] = [];
      if (ev) {
        try {
          const r = transition(machine, s, ev as { type: string });
          entry = intern(r.snapshot);
          ch = r.changed ? 1 : 0;
          cmds = commandsOf(r.effects);
          path = [...r.path];
        } catch (e) {
          if (!(e instanceof OrdoError)) throw e;
          entry = -1;
        }
      }
      next.push(entry);
      changed.push(ch);
      sends.push(cmds);
      paths.push(path);
      // A change must follow an edge of the machine and, between two states the table knows, an edge of the table.
      const bad = path.some((p) => !(machineEdges.get(p.from)?.has(p.to) ?? false) || (allowed !== undefined && p.from in allowed && p.to in allowed && !(allowed[p.from] ?? []).includes(p.to)));
      invalid.push(bad ? 1 : 0);
    }
  }
  return {
    machine,
    snapshots,
    names: snapshots.map((s) => s.state),
    final: Uint8Array.from(snapshots.map((s) => (machine.states[s.state]?.final ? 1 : 0))),
    inputs,
    next: Int16Array.from(next),
    changed: Uint8Array.from(changed),
    sends,
    paths,
    invalid: Uint8Array.from(invalid),
    inputIndex: (kind, name) => inputs.findIndex((i) => i.kind === kind && i.name === name),
  };
}
