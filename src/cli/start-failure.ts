/** A start-up failure as the person at the terminal can act on it. */
export function startFailure(err: unknown, host: string, port: number | undefined): string {
  const e = err as { code?: unknown; message?: unknown; address?: unknown; port?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const where = { port: typeof e?.port === 'number' ? e.port : port, address: typeof e?.address === 'string' ? e.address : host };
  if (e?.code === 'EADDRINUSE') return `port ${String(where.port)} on ${where.address} is in use (another ordo still running?); choose another with --port`;
  if (e?.code === 'EACCES') return `not allowed to listen on port ${String(where.port)} (ports below 1024 need privileges); choose another with --port`;
  if (e?.code === 'ECONNREFUSED') return `${message} — is the server running? (PostgreSQL: --postgres; NATS: --nats; Kafka: --kafka)`;
  return message;
}
