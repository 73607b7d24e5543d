import type { Logger } from '../observe/index.js';
import { preparedStatement, recordInbox, type Db, type Queryable } from '../store/index.js';
import type { Subscription, Transport } from '../transport/index.js';
import { stockEvents, topics, type StockChanged } from './contracts.js';
import { moneyFromSql } from './money.js';
import { serviceBatcher } from './service-batch.js';
import { write } from './staged-writes.js';

/**
 * The gateway's catalogue: prices and availability per SKU, a read model of the
 * inventory's stock feed (StockChanged on `inventory-stock`). The gateway prices orders
 * and answers `GET /inventory` from here and never reads the inventory's tables.
 * Events may arrive out of order or twice: a row only moves to a higher `version`.
 */
export interface CatalogueEntry {
  readonly sku: string;
  readonly name: string;
  readonly unitPrice: number;
  readonly available: number;
  readonly reserved: number;
  readonly shipped: number;
  readonly version: number;
}

export const CATALOGUE_CONSUMER = 'gateway-catalogue';

interface Row {
  sku: string;
  name: string;
  unit_price: unknown;
  available: number;
  reserved: number;
  shipped: number;
  version: unknown;
}

const entry = (r: Row): CatalogueEntry => ({
  sku: r.sku,
  name: r.name,
  unitPrice: moneyFromSql(r.unit_price, `catalogue ${r.sku} unit_price`),
  available: Number(r.available),
  reserved: Number(r.reserved),
  shipped: Number(r.shipped),
  version: Number(r.version),
});

const COLUMNS = 'sku, name, unit_price, available, reserved, shipped, version';

export async function readCatalogue(q: Queryable, skus?: readonly string[]): Promise<CatalogueEntry[]> {
  const r = skus
    ? await q.query<Row>(preparedStatement(`SELECT ${COLUMNS} FROM gateway_catalogue WHERE sku = ANY($1::text[]) ORDER BY sku`), [[...new Set(skus)]])
    : await q.query<Row>(`SELECT ${COLUMNS} FROM gateway_catalogue ORDER BY sku`);
  return r.rows.map(entry);
}

/** The command a stock request of the gateway sends (shop-backend.ts): the only cause with a row in gateway_stock_requests. */
const STOCK_REQUEST = 'SetStock';

/**
 * Applies one StockChanged; records that the stock request `causationId` (if one) is done.
 * An event whose `causationType` says it answers another command (a reservation, a shipment:
 * nearly all of them) has no request to mark, and costs no statement for it; an event
 * without one (an older inventory) is looked up as before.
 */
export async function applyStockChanged(tx: Queryable, e: StockChanged, causationId?: string, causationType?: string): Promise<void> {
  // Writes nobody reads: staged in the catalogue's batches, they go with the COMMIT.
  await write(
    tx,
    preparedStatement(`INSERT INTO gateway_catalogue (sku, name, unit_price, available, reserved, shipped, version) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, unit_price = EXCLUDED.unit_price, available = EXCLUDED.available,
       reserved = EXCLUDED.reserved, shipped = EXCLUDED.shipped, version = EXCLUDED.version, updated_at = now()
     WHERE gateway_catalogue.version < EXCLUDED.version`),
    [e.sku, e.name, e.unitPrice, e.available, e.reserved, e.shipped, e.version],
  );
  if (causationId && (causationType === undefined || causationType === STOCK_REQUEST)) {
    await write(tx, preparedStatement('UPDATE gateway_stock_requests SET applied_version = $2, applied_at = now() WHERE command_id = $1 AND applied_version IS NULL'), [causationId, e.version]);
  }
}

/**
 * Feeds the catalogue from the stock feed: inbox and row in one transaction, shared by the
 * messages handed over at once (group commit; each is acknowledged after its commit).
 */
export async function startCatalogueProjector(options: { db: Db; transport: Transport; log: Logger }): Promise<Subscription> {
  const { db, log } = options;
  const batcher = serviceBatcher(db);
  return options.transport.subscribe({
    topic: topics.stock,
    group: CATALOGUE_CONSUMER,
    maxDeliver: 20,
    handler: async ({ message }) => {
      if (message.type !== 'StockChanged') return;
      const parsed = stockEvents.StockChanged.safeParse(message.payload);
      if (!parsed.success) {
        // Nothing to apply it to: say so loudly, never guess a price.
        log.error({ messageId: message.id, issues: parsed.error.issues }, 'catalogue: a StockChanged the gateway cannot read was skipped');
        return;
      }
      await batcher.submit(async (tx) => {
        if (!(await recordInbox(tx, CATALOGUE_CONSUMER, message.id))) return;
        await applyStockChanged(tx, parsed.data, message.headers['causationId'], message.headers['causationType']);
      });
    },
  });
}

/** Waits until the catalogue holds each SKU at least at the version given (start-up in one process). */
export async function catalogueCaughtUp(q: Queryable, wanted: readonly { sku: string; version: number }[], timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const have = new Map((await readCatalogue(q, wanted.map((w) => w.sku))).map((e) => [e.sku, e.version]));
    if (wanted.every((w) => (have.get(w.sku) ?? 0) >= w.version)) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}
