import { startFailure } from './start-failure.js';
import type { Command } from 'commander';
import type { StartFlags } from './start-options.js';
import { addRetentionFlags } from './retention-flags.js';
import { failUsage } from './usage-error.js';

export function registerStart(program: Command): void {
  addRetentionFlags(program.command('start'))
    .description('start the shop: embedded (PGlite + in-process) by default, or one service per process on PostgreSQL + NATS/Kafka')
    .option('--data-dir <dir>', 'where the embedded databases live', '.ordo')
    .option('--postgres <url>', 'PostgreSQL server (each service gets its own database ordo_<service>)')
    .option('--nats <url>', 'NATS JetStream server, e.g. nats://127.0.0.1:4222')
    .option('--kafka <host:port>', 'Kafka bootstrap broker(s), e.g. 127.0.0.1:9092')
    .option('--service <name>', 'run one part: orders, inventory, payment, shipping, gateway, or all')
    .option('--mode <mode>', 'orchestration or choreography', 'orchestration')
    .option('--port <port>', 'HTTP port of the gateway', '3000')
    .option('--host <host>', 'interface the gateway listens on', '127.0.0.1')
    .option('--delivery-delay-ms <ms>', 'the simulated carrier confirms delivery after this long (-1: never)', '5000')
    .option('--decline-rate <0..1>', 'share of cards the simulated provider declines')
    .option('--error-rate <0..1>', 'share of provider calls that fail transiently')
    .option('--never-answers-rate <0..1>', 'share of payments the provider never answers')
    .option('--shipment-failure-rate <0..1>', 'share of shipments that cannot be prepared')
    .option('--refund-failure-rate <0..1>', 'share of refunds the provider refuses')
    .option('--latency-ms <ms>', 'provider latency per call')
    .option('--payment-timeout-ms <ms>', 'how long the saga waits for the provider')
    .option('--reservation-timeout-ms <ms>', 'how long the saga waits for the inventory')
    .option('--no-seed', 'do not stock the demo catalogue')
    .option('--order-machine <version>', 'the order machine new orders start on: 1, or 2 (a fraud check before payment; v1 orders run on until migrated)')
    .option('--migrate-orders', 'with --order-machine 2: move the unfinished v1 orders to v2 in the background at start (see ordo migrate)')
    .option('--nats-ack-wait-ms <ms>', 'NATS: an unacked message of a crashed process is redelivered after this long (default 30000)')
    .option('--relay-lease-ms <ms>', 'outbox relay lease: a crashed process blocks its replacement this long (default 15000)')
    .option('--reconcile-interval-ms <ms>', 'the orders service compares the services\' databases and corrects what disagrees this often (default 30000; 0: only on POST /admin/reconcile)')
    .option('--metrics-port <port>', 'a service process without the gateway serves GET /metrics and GET /health on this port (default 0: off)')
    .option('--metrics-host <host>', 'interface the metrics listener listens on', '127.0.0.1')
    .option('--namespace <name>', 'prefix of the server databases (<name>_orders, …), the NATS stream name and the Kafka topics and groups (<name>-<topic>)', 'ordo')
    .option('--rate-limit-token <n>', 'requests a minute per customer token (default 600; 0: no limit)')
    .option('--rate-limit-ip <n>', 'requests a minute per client address, unauthenticated ones included; the admin token is not limited (default 1200; 0: no limit)')
    .option('--request-timeout-ms <ms>', 'a request not answered in this long gets 503; also how long a client has to send one (default 30000)')
    .option('--cors-origin <origins>', 'comma-separated origins allowed to call the API from a browser (default: none, no CORS headers)')
    .option('--internal-networks <list>', 'who may read /metrics and /openapi.json without the admin token: private, any, or CIDRs (default private)')
    .option('--trust-proxy <value>', 'behind a reverse proxy: true, or the proxies\' addresses/CIDRs, so limits and logs see the client address')
    .option('--no-access-log', 'do not log one line per HTTP request')
    .action(async (flags: StartFlags) => {
      // Loaded here, not at the top, so the other commands start without the shop.
      const [{ dashboardPlugin }, { createLogger }, { startShop }, { shopOptionsFromFlags, StartFlagError }, { startTracing }] = await Promise.all([
        import('../dashboard/index.js'),
        import('../observe/index.js'),
        import('../shop/index.js'),
        import('./start-options.js'),
        import('./otel-sdk.js'),
      ]);
      let options;
      try {
        options = shopOptionsFromFlags(flags);
      } catch (e) {
        if (e instanceof StartFlagError) return failUsage(e.message);
        throw e;
      }
      const log = createLogger({ name: 'ordo' });
      const where = options.storage.kind === 'pglite' ? `embedded PGlite in ${options.storage.dataDir ?? 'memory'} (for trying and testing; production uses a PostgreSQL server)` : 'PostgreSQL server';
      process.stderr.write(`ordo: starting ${options.services?.join(', ')} (${options.mode}) on ${where}, transport ${options.transport.kind}…\n`);
      // Before the shop, so its first spans already have a provider.
      const tracing = await startTracing(options.services?.length === 1 ? (options.services[0] ?? 'all') : 'all');
      if (tracing) process.stderr.write(`ordo: tracing on, exporting spans (${tracing.exporter}) as set by the OTEL_* variables\n`);
      let shop;
      try {
        shop = await startShop({ ...options, log, plugins: [dashboardPlugin()] });
      } catch (err) {
        // What the operator can act on, in one line; the stack only when asked for (ORDO_DEBUG=1).
        process.stderr.write(`ordo: could not start: ${startFailure(err, options.host ?? '127.0.0.1', options.port)}\n`);
        if (process.env['ORDO_DEBUG']) process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        await tracing?.shutdown().catch(() => undefined);
        process.exit(1);
      }
      const out = process.stdout;
      if (shop.url) {
        const customer = shop.tokens.customerToken('alice');
        out.write(`\nordo shop is running (${options.mode})\n`);
        out.write(`  dashboard   ${shop.url}/#token=${shop.tokens.adminToken}\n`);
        out.write(`  API         ${shop.url}   (OpenAPI at ${shop.url}/openapi.json)\n`);
        out.write(`  admin token ${shop.tokens.adminToken}${process.env['ORDO_ADMIN_TOKEN'] ? ' (from ORDO_ADMIN_TOKEN)' : ''}\n`);
        out.write(`  customer    alice: ${customer}\n\n`);
        out.write(`  try: curl -s -X POST ${shop.url}/orders -H 'Authorization: Bearer ${customer}' -H 'Content-Type: application/json' -d '{"items":[{"sku":"TEA-GREEN","quantity":2}]}'\n`);
        out.write(`       npx ordo demo --url ${shop.url} --token ${shop.tokens.adminToken} --orders 200\n\n`);
      } else {
        out.write(`ordo ${options.services?.join(', ')} is running${shop.metricsUrl ? ` (metrics at ${shop.metricsUrl}/metrics)` : ''}\n`);
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`ordo: ${signal}, stopping…\n`);
        shop
          .stop()
          .then(() => tracing?.shutdown())
          .then(
            () => process.exit(0),
            (err: unknown) => {
              log.error({ err }, 'stop failed');
              process.exit(1);
            },
          );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}

