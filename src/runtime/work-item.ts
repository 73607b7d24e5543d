import type { MachineMigration } from '../machine/index.js';

/** An incoming message as a transport delivers it (the transport's `Message` fits). */
export interface IncomingMessage {
  /** Unique id: the inbox dedup key. */
  readonly id: string;
  /** The saga instance id. */
  readonly key: string;
  readonly type: string;
  readonly payload?: unknown;
  readonly headers?: Readonly<Record<string, string | undefined>>;
}

/** The event a saga starts with (`startSaga(…, { first })`); its key is the saga id. */
export interface FirstEvent {
  /** The inbox dedup key, as for any incoming message. */
  readonly id: string;
  readonly type: string;
  readonly payload?: unknown;
  readonly headers?: Readonly<Record<string, string | undefined>>;
}

/** One unit of work for a batch transaction. */
export type WorkItem =
  /** `first`: the instance's first event, applied in the same transaction as the start (atomic). */
  | { readonly kind: 'start'; readonly sagaId: string; readonly machineId: string; readonly context: unknown; readonly first?: FirstEvent }
  /** `park: false`: a message the saga cannot take now is dead-lettered at once (a caller that wants an answer now). */
  | { readonly kind: 'message'; readonly message: IncomingMessage; readonly park?: boolean }
  /** Try the saga's parked messages again (the poller's backoff). */
  | { readonly kind: 'unpark'; readonly sagaId: string }
  | { readonly kind: 'timer'; readonly sagaId: string; readonly timerId: string; readonly timerKind: 'machine' | 'step'; readonly purpose: 'fire' | 'resend' | 'timeout' }
  | { readonly kind: 'replay'; readonly deadLetterId: string }
  | { readonly kind: 'retry-compensation'; readonly sagaId: string; readonly event: string }
  /** Move the instance to another version of its machine (a live migration; see saga-migration.ts). */
  | { readonly kind: 'migrate'; readonly sagaId: string; readonly migration: MachineMigration<never, unknown> };

/** What happened to one work item. */
export type WorkResult =
  | { readonly status: 'started'; readonly sagaId: string; readonly state: string; readonly version: number }
  | { readonly status: 'exists'; readonly sagaId: string; readonly state: string; readonly version: number }
  | { readonly status: 'applied'; readonly sagaId: string; readonly state: string; readonly changed: boolean }
  | { readonly status: 'retry-scheduled'; readonly sagaId: string; readonly state: string; readonly attempt: number; readonly retryInMs: number }
  /** A step failure or engine timer for a state the saga has already left: nothing to do. */
  | { readonly status: 'stale'; readonly sagaId: string; readonly state: string }
  | { readonly status: 'duplicate'; readonly messageId: string }
  /** Too early (no saga yet, or its state cannot take it yet): kept aside, not marked handled, applied when it can be. */
  | { readonly status: 'parked'; readonly messageId: string; readonly sagaId: string; readonly code: string; readonly reason: string }
  | { readonly status: 'dead-lettered'; readonly messageId: string; readonly deadLetterId: string; readonly code: string; readonly reason: string }
  | { readonly status: 'rejected'; readonly error: Error };
