import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The metrics ordo exports on `GET /metrics`. One registry per process; every
 * component receives it rather than using prom-client's global default.
 */
export interface OrdoMetrics {
  readonly registry: Registry;
  readonly transitions: Counter<'machine' | 'from' | 'to' | 'event'>;
  readonly sagasStarted: Counter<'machine'>;
  readonly sagaLatency: Histogram<'machine' | 'outcome'>;
  readonly messagesPublished: Counter<'transport' | 'topic'>;
  readonly messagesHandled: Counter<'service' | 'type' | 'outcome'>;
  readonly deadLetters: Counter<'service' | 'reason'>;
  /**
   * Saga engine batches committed, by how they found their instances: `cache` (no load, one
   * round trip), `loaded`; and `cache-miss`, a batch that trusted the cache and ran again
   * with a load (many mean another writer keeps changing this engine's sagas).
   */
  readonly engineBatches: Counter<'service' | 'load'>;
  readonly alerts: Counter<'kind'>;
  /** Read at each scrape (see `onScrape`), so it is the broker's state now, not at its last change. */
  readonly brokerUp: Gauge<'transport'>;
  readonly outboxLag: Gauge<'service'>;
  /** Age of the oldest log message the relay has not passed yet (0 when it is caught up). */
  readonly outboxLagSeconds: Gauge<'service'>;
  /** Saga instances per state, read from the database at each scrape. */
  readonly sagas: Gauge<'machine' | 'state'>;
  /** Active sagas unchanged for longer than the stuck threshold with no timer due to move them. */
  readonly sagasStuck: Gauge<'machine'>;
  /** Dead letters not replayed yet, per service (the engine's and every service's own). */
  readonly deadLettersWaiting: Gauge<'service'>;
  /** Messages that arrived before their saga could take them, waiting to be tried again (they become dead letters past their time to live). */
  readonly parkedMessages: Gauge<'service'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  /** What the reconciler recorded: outcome corrected | failed | check-failed. */
  readonly reconciliations: Counter<'check' | 'outcome'>;
  /** Keys (or 1 for a system-wide property) breaking a system invariant in the runtime monitor's last round. */
  readonly propertyViolations: Gauge<'property'>;
  /**
   * Runs `refresh` before each scrape renders the gauges (e.g. an outbox's backlog from its
   * database). A refresh that fails leaves its gauges as they were. Returns an unsubscribe.
   */
  onScrape(refresh: () => Promise<void> | void): () => void;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): OrdoMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters: `promtool check metrics` rejects them; the per-type gauges without `_total` stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  }
  const r = [registry];
  const refreshers = new Set<() => Promise<void> | void>();
  // Several gauges ask at one scrape; they share one round of refreshes.
  let round: Promise<void> | undefined;
  const refreshAll = (): Promise<void> =>
    (round ??= Promise.all([...refreshers].map((f) => Promise.resolve().then(f).catch(() => undefined))).then(() => {
      round = undefined;
    }));
  const scraped = { collect: refreshAll };
  return {
    registry,
    transitions: new Counter({ name: 'ordo_transitions_total', help: 'State transitions applied', labelNames: ['machine', 'from', 'to', 'event'], registers: r }),
    sagasStarted: new Counter({ name: 'ordo_sagas_started_total', help: 'Saga instances started', labelNames: ['machine'], registers: r }),
    sagaLatency: new Histogram({
      name: 'ordo_saga_duration_seconds',
      help: 'Time from start to a final state',
      labelNames: ['machine', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
      registers: r,
    }),
    messagesPublished: new Counter({ name: 'ordo_messages_published_total', help: 'Messages handed to the broker', labelNames: ['transport', 'topic'], registers: r }),
    messagesHandled: new Counter({ name: 'ordo_messages_handled_total', help: 'Messages handled by consumers', labelNames: ['service', 'type', 'outcome'], registers: r }),
    deadLetters: new Counter({ name: 'ordo_dead_letters_total', help: 'Messages sent to the dead-letter table', labelNames: ['service', 'reason'], registers: r }),
    engineBatches: new Counter({ name: 'ordo_engine_batches_total', help: 'Saga engine batches: committed from the instance cache or with a load, and cache misses run again', labelNames: ['service', 'load'], registers: r }),
    propertyViolations: new Gauge({ name: 'ordo_property_violations', help: "Keys breaking a system invariant in the property monitor's last round (1 for a system-wide one)", labelNames: ['property'], registers: r }),
    alerts: new Counter({ name: 'ordo_alerts_total', help: 'Alerts raised (e.g. compensation failed)', labelNames: ['kind'], registers: r }),
    brokerUp: new Gauge({ name: 'ordo_broker_up', help: '1 when the broker is reachable', labelNames: ['transport'], registers: r, ...scraped }),
    outboxLag: new Gauge({ name: 'ordo_outbox_lag_messages', help: 'Log messages not yet forwarded by the relay', labelNames: ['service'], registers: r, ...scraped }),
    outboxLagSeconds: new Gauge({ name: 'ordo_outbox_lag_seconds', help: 'Age of the oldest log message the relay has not forwarded yet', labelNames: ['service'], registers: r, ...scraped }),
    sagas: new Gauge({ name: 'ordo_sagas', help: 'Saga instances per state', labelNames: ['machine', 'state'], registers: r, ...scraped }),
    sagasStuck: new Gauge({ name: 'ordo_sagas_stuck', help: 'Active sagas unchanged past the stuck threshold with no timer due', labelNames: ['machine'], registers: r, ...scraped }),
    deadLettersWaiting: new Gauge({ name: 'ordo_dead_letters_waiting', help: 'Dead letters not replayed yet', labelNames: ['service'], registers: r, ...scraped }),
    parkedMessages: new Gauge({ name: 'ordo_parked_messages', help: 'Messages parked until their saga can take them', labelNames: ['service'], registers: r, ...scraped }),
    httpRequests: new Counter({ name: 'ordo_http_requests_total', help: 'HTTP requests served', labelNames: ['method', 'route', 'status'], registers: r }),
    reconciliations: new Counter({ name: 'ordo_reconciliations_total', help: 'Corrections the reconciler applied or tried, and checks that failed', labelNames: ['check', 'outcome'], registers: r }),
    onScrape(refresh) {
      refreshers.add(refresh);
      return () => void refreshers.delete(refresh);
    },
  };
}
