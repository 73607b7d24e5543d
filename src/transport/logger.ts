/** The subset of a pino logger the transports use, so a pino instance can be passed as is. */
export interface TransportLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

function line(level: string): (fields: object, message: string) => void {
  return (fields, message) => {
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), name: 'ordo-transport', msg: message, ...fields })}\n`);
  };
}

/** Default: one JSON line per event on stderr (stdout may carry `--json` output). */
export const stderrLogger: TransportLogger = { info: line('info'), warn: line('warn'), error: line('error') };

/** Tracks connected/disconnected for `Transport.status()` and says so once per change. */
export class ConnectionState {
  private connectedNow = false;
  private changedAt = Date.now();
  private lost = 0;
  private error: string | undefined;

  constructor(
    private readonly broker: string,
    private readonly logger: TransportLogger,
    private readonly onChange?: (status: { connected: boolean; disconnects: number; since: number; lastError?: string }) => void,
  ) {}

  up(where: string): void {
    if (this.connectedNow) return;
    const wasDown = this.lost > 0;
    this.connectedNow = true;
    this.changedAt = Date.now();
    if (wasDown) this.logger.info({ broker: this.broker, where, disconnects: this.lost }, `${this.broker}: connection restored`);
    this.onChange?.(this.status());
  }

  down(where: string, reason?: string): void {
    if (reason) this.error = reason;
    if (!this.connectedNow) return;
    this.connectedNow = false;
    this.changedAt = Date.now();
    this.lost += 1;
    this.logger.warn({ broker: this.broker, where, reason }, `${this.broker}: broker unreachable, reconnecting with backoff`);
    this.onChange?.(this.status());
  }

  closed(): void {
    this.connectedNow = false;
    this.changedAt = Date.now();
  }

  status(): { connected: boolean; disconnects: number; since: number; lastError?: string } {
    return { connected: this.connectedNow, disconnects: this.lost, since: this.changedAt, ...(this.error ? { lastError: this.error } : {}) };
  }
}
