import { randomBytes } from 'node:crypto';

/** W3C `traceparent`: version-traceid-parentid-flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  const m = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (!m || /^0+$/.test(m[1] ?? '') || /^0+$/.test(m[2] ?? '')) return undefined;
  return { traceId: m[1] ?? '', spanId: m[2] ?? '', sampled: ((Number.parseInt(m[3] ?? '0', 16) & 1) === 1) };
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
}

/**
 * The traceparent for a message caused by `parent` (a new span in the same trace),
 * or a new trace when there is none. Carried in message headers so one order's
 * work across services shares a trace id.
 */
export function childTraceparent(parent?: string): string {
  const p = parseTraceparent(parent);
  return formatTraceparent({ traceId: p?.traceId ?? randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), sampled: p?.sampled ?? true });
}
