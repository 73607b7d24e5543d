/**
 * The logger ordo's components take: the subset of pino they call, so a pino instance (or
 * a child of one) can be passed as is. The outbox relay, the saga engine and the
 * reconciler all take this one type.
 */
export interface StructuredLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}
