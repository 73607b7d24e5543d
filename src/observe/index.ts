export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger.js';
export { createMetrics, type OrdoMetrics } from './metrics.js';
export { parseTraceparent, formatTraceparent, childTraceparent, type TraceContext } from './trace-context.js';
export { SpanKind, contextFromTraceparent, inSpan, openSpan, ordoTracer, outgoingTraceparent, outsideAnyTrace, recordSpan, traceFields, traceparentOf, type OpenSpan, type SpanOptions } from './tracing.js';
