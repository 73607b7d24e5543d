import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, isSpanContextValid, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { childTraceparent, formatTraceparent, parseTraceparent } from './trace-context.js';

/*
 * ordo's spans go through @opentelemetry/api only: without an SDK registered (a library
 * user who set none up) every call here is a no-op that still passes the W3C context on,
 * so messages keep one trace id per order either way. `ordo start` registers the SDK.
 */

export { SpanKind };

/** The tracer every ordo component uses (a proxy until an SDK registers a provider). */
export function ordoTracer() {
  return trace.getTracer('ordo');
}

/** A context whose parent is the span a W3C `traceparent` names (the base context when it names none). */
export function contextFromTraceparent(traceparent: string | undefined, base: Context = ROOT_CONTEXT): Context {
  const p = parseTraceparent(traceparent);
  if (!p) return base;
  return trace.setSpanContext(base, { traceId: p.traceId, spanId: p.spanId, traceFlags: p.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
}

/** The `traceparent` of a context's span (the active one by default), if it has a valid one. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !isSpanContextValid(sc)) return undefined;
  return formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & 1) === 1 });
}

/**
 * The `traceparent` for a message written now: the active span's; else `parent` as it is
 * (its span is real, so the message's consumer becomes its child, not a phantom's); else
 * a new trace.
 */
export function outgoingTraceparent(parent?: string): string {
  return traceparentOf() ?? (parseTraceparent(parent) ? (parent as string) : childTraceparent());
}

/**
 * Runs `fn` with no active span: for work of a component's own (a timer, a poll) that may be
 * started from inside one message's span but is about many messages, each of which names its
 * own parent.
 */
export function outsideAnyTrace<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}

export interface SpanOptions {
  /** The parent: a W3C traceparent (a message header), or none for the active context. */
  readonly parent?: string;
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
}

/**
 * Runs `fn` inside a new span (the active one while it runs) and ends it; a thrown error
 * is recorded on the span and rethrown.
 */
export async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent === undefined ? context.active() : contextFromTraceparent(options.parent);
  const span = ordoTracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    failed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** A span of something already done (a committed transition), with its real start and end times. */
export function recordSpan(name: string, options: SpanOptions & { readonly startTime: number; readonly endTime: number }): void {
  const span = ordoTracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, startTime: options.startTime, ...(options.attributes ? { attributes: options.attributes } : {}) },
    contextFromTraceparent(options.parent),
  );
  span.end(options.endTime);
}

/** The trace and span ids of the active span, for a log line (empty without one). */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/** A span begun now and ended by the caller (one per message of a batch), with the traceparent of its own context. */
export interface OpenSpan {
  readonly traceparent: string | undefined;
  end(err?: unknown): void;
}

export function openSpan(name: string, options: SpanOptions): OpenSpan {
  const parent = options.parent === undefined ? context.active() : contextFromTraceparent(options.parent);
  const span = ordoTracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) }, parent);
  return {
    traceparent: traceparentOf(trace.setSpan(parent, span)),
    end(err) {
      if (err !== undefined) failed(span, err);
      span.end();
    },
  };
}

function failed(span: Span, err: unknown): void {
  const message = err instanceof Error ? err.message : JSON.stringify(err);
  span.recordException(err instanceof Error ? err : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
