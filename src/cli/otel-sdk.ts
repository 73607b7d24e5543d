/**
 * The OpenTelemetry SDK for `ordo start`, set up from the standard `OTEL_*` variables and
 * only when they ask for traces: `OTEL_TRACES_EXPORTER=otlp|console`, or an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). The exporter is
 * OTLP over HTTP with JSON bodies; it reads its own variables (endpoint, headers, timeout),
 * the batch processor reads `OTEL_BSP_*`, the resource `OTEL_SERVICE_NAME` and
 * `OTEL_RESOURCE_ATTRIBUTES` (default service name: `ordo-<part>`). ordo's own code only
 * uses `@opentelemetry/api`; without this, its spans are no-ops.
 */
export interface Tracing {
  readonly exporter: 'otlp' | 'console';
  /** Exports what is buffered and stops (call before the process exits). */
  shutdown(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

export function tracingExporterFrom(env: Env): 'otlp' | 'console' | undefined {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return undefined;
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (exporters.includes('none')) return undefined;
  if (exporters.includes('otlp')) return 'otlp';
  if (exporters.includes('console')) return 'console';
  if (env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) return 'otlp';
  return undefined;
}

export async function startTracing(part: string, env: Env = process.env, warn: (msg: string) => void = (m) => process.stderr.write(`ordo: ${m}\n`)): Promise<Tracing | undefined> {
  const exporterKind = tracingExporterFrom(env);
  if (!exporterKind) return undefined;
  const protocol = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'];
  if (exporterKind === 'otlp' && protocol && protocol !== 'http/json') warn(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported; exporting OTLP over HTTP with JSON (collectors accept both on port 4318)`);
  const [{ NodeTracerProvider }, { BatchSpanProcessor, ConsoleSpanExporter }, { OTLPTraceExporter }, { detectResources, envDetector, resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const resource = resourceFromAttributes({ 'service.name': part === 'all' ? 'ordo' : `ordo-${part}`, 'service.namespace': 'ordo' }).merge(detectResources({ detectors: [envDetector] }));
  const exporter = exporterKind === 'otlp' ? new OTLPTraceExporter() : new ConsoleSpanExporter();
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register();
  return { exporter: exporterKind, shutdown: () => provider.shutdown() };
}
