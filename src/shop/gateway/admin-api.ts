/** What the operator's API (`/admin/…`, admin token only) needs from the shop; the HTTP layer only validates and maps. */

export interface StateCount {
  readonly state: string;
  readonly count: number;
}

export interface Throughput {
  /** Orders whose saga started in the window. */
  readonly created: number;
  /** Orders that reached a final state in the window (DELIVERED or CANCELED). */
  readonly finished: number;
  readonly windowSeconds: number;
}

export interface StuckSaga {
  readonly orderId: string;
  readonly state: string;
  readonly status: string;
  readonly updatedAt: string;
  /** Seconds since the saga last changed. */
  readonly idleSeconds: number;
  /** Earliest timer of the saga (ISO), if any; a stuck saga has none due soon. */
  readonly nextTimerAt?: string;
  /** Whether `POST /admin/orders/:id/compensate` can act on it in its state. */
  readonly cancellable: boolean;
}

export interface DeadLetterView {
  readonly id: string;
  readonly messageId: string;
  readonly sagaId?: string;
  readonly type: string;
  readonly payload: unknown;
  readonly errorCode: string;
  readonly reason: string;
  readonly attempts: number;
  readonly createdAt: string;
  readonly replayedAt?: string;
}

export interface AlertView {
  readonly id: string;
  readonly sagaId: string;
  readonly kind: string;
  readonly detail: unknown;
  readonly createdAt: string;
  readonly resolvedAt?: string;
  /** The saga's state now (absent if the saga is gone). */
  readonly sagaState?: string;
  /** Whether `POST /admin/orders/:id/retry-compensation` applies to the saga now. */
  readonly retryable: boolean;
}

/** One failed send of a step or compensation command (the engine's retry history). */
export interface CommandAttempt {
  readonly step: string;
  readonly compensation: boolean;
  readonly attempt: number;
  readonly retryable: boolean;
  readonly error: string;
  readonly at: string;
  /** When the engine sends it again (ISO); absent when no further send follows. */
  readonly retryAt?: string;
}

export interface AdminOverview {
  readonly machine: { readonly id: string; readonly version: number };
  /** Every state of the order machine, in definition order, with how many orders are in it (0 included). */
  readonly states: readonly StateCount[];
  readonly total: number;
  readonly throughput: Throughput;
  readonly openAlerts: number;
  readonly deadLettersWaiting: number;
  readonly stuck: number;
  readonly stuckAfterSeconds: number;
  /** Orders per version of the order machine they run on (unfinished and finished): what a live migration moves (`ordo migrate`). */
  readonly versions: readonly { readonly version: number; readonly unfinished: number; readonly finished: number }[];
  readonly at: string;
}

export interface MachineView {
  readonly definition: unknown;
  readonly mermaid: string;
  readonly edges: readonly { from: string; to: string; kind: string; trigger: string; guard?: string }[];
}

export interface AdminBackend {
  /** `stuckAfterSeconds` overrides the backend's threshold for the stuck count. */
  overview(stuckAfterSeconds?: number): Promise<AdminOverview>;
  machine(): MachineView;
  deadLetters(filter: { includeReplayed: boolean; limit: number }): Promise<DeadLetterView[]>;
  /** Throws HttpError 404 (no such waiting dead letter) or 409 (it failed again; it stays, attempts + 1). */
  replayDeadLetter(id: string): Promise<{ id: string; status: string; state?: string }>;
  alerts(filter: { includeResolved: boolean; limit: number }): Promise<AlertView[]>;
  stuck(limit: number, afterSeconds?: number): Promise<StuckSaga[]>;
  /** Throws HttpError 404 (no order) or 409 (not parked in a state that takes the retry). */
  retryCompensation(orderId: string): Promise<{ orderId: string; status: string }>;
  /** The order's failed command sends, oldest first; throws HttpError 404 for no such order. */
  attempts(orderId: string): Promise<CommandAttempt[]>;
  /** Sends CancelRequested; throws HttpError 404 or 409 where the state does not allow it. */
  compensate(orderId: string, reason: string): Promise<{ orderId: string; status: string }>;
}
