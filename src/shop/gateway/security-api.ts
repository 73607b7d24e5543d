/** What the gateway's security layer needs from storage: revoked tokens and the audit trail. */

export interface TokenRevocations {
  isRevoked(tokenId: string): Promise<boolean>;
  /** Idempotent: revoking twice keeps the first record. */
  revoke(tokenId: string, by: string, reason?: string): Promise<{ tokenId: string; revokedAt: string; alreadyRevoked: boolean }>;
}

export interface AuditStart {
  readonly actor: string;
  readonly action: string;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly target?: string;
  readonly input?: unknown;
  /** What the target looked like before the action. */
  readonly before?: unknown;
}

export interface AuditEntry extends AuditStart {
  readonly id: string;
  readonly at: string;
  /** `ok`, an error code, or `pending` (the process stopped before the action finished). */
  readonly outcome: string;
  readonly status?: number;
  /** The response of the action: what the target looks like after it. */
  readonly after?: unknown;
  readonly finishedAt?: string;
}

export interface AuditTrail {
  /** Records an action before it runs; returns its id. A failure here stops the action. */
  begin(entry: AuditStart): Promise<string>;
  finish(id: string, result: { outcome: string; status: number; after?: unknown }): Promise<void>;
  /** Newest first; `before` is an id from a previous page. */
  list(query: { limit: number; before?: string; action?: string; actor?: string }): Promise<AuditEntry[]>;
}
