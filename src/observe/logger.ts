import { pino, type Logger } from 'pino';
import { traceFields } from './tracing.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level?: string;
  readonly name?: string;
}

/** Structured JSON logs on stderr (stdout is kept for command output and `--json`); each line carries the active span's trace_id and span_id. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({ name: options.name ?? 'ordo', level: options.level ?? process.env['ORDO_LOG_LEVEL'] ?? 'info', mixin: traceFields }, pino.destination(2));
}

/** A logger that drops everything: the default for libraries embedded in tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
