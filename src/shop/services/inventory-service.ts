import type { Queryable } from '../../store/index.js';
import type { ServiceEvent } from '../contracts.js';
import type { OrderItem } from '../order-machine.js';
import { moneyFromSql } from '../money.js';
import type { z } from 'zod';

type Item = z.infer<typeof OrderItem>;

export const inventoryMigrations = [
  {
    version: 1,
    name: 'stock and reservations',
    sql: `
      CREATE TABLE IF NOT EXISTS stock (
        sku text PRIMARY KEY,
        name text NOT NULL,
        unit_price integer NOT NULL CHECK (unit_price >= 0),
        initial integer NOT NULL CHECK (initial >= 0),
        available integer NOT NULL CHECK (available >= 0),
        reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        shipped integer NOT NULL DEFAULT 0 CHECK (shipped >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- One row per order: reserved, rejected, released (also a tombstone when the
      -- release arrived first) or shipped. It makes every command idempotent.
      CREATE TABLE IF NOT EXISTS reservations (
        order_id text PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('reserved', 'rejected', 'released', 'shipped')),
        items jsonb NOT NULL,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS reservations_status ON reservations (status, updated_at);
    `,
  },
  {
    version: 10,
    name: 'prices are 64-bit',
    sql: `ALTER TABLE stock ALTER COLUMN unit_price TYPE bigint;`,
  },
  {
    // The gateway's catalogue is fed by StockChanged events that may arrive out of order
    // (log order is transaction-id order, not commit order): each row change bumps the
    // version, and the catalogue keeps the highest. A trigger, so no UPDATE can forget it.
    version: 11,
    name: 'stock row versions',
    sql: `
      ALTER TABLE stock ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 1;
      CREATE OR REPLACE FUNCTION stock_next_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.version := OLD.version + 1;
        RETURN NEW;
      END $$;
      DROP TRIGGER IF EXISTS stock_version ON stock;
      CREATE TRIGGER stock_version BEFORE UPDATE ON stock FOR EACH ROW EXECUTE FUNCTION stock_next_version();
    `,
  },
];

interface ReservationRow {
  status: 'reserved' | 'rejected' | 'released' | 'shipped';
  reason: string | null;
}

async function reservation(tx: Queryable, orderId: string): Promise<ReservationRow | undefined> {
  return (await tx.query<ReservationRow>('SELECT status, reason FROM reservations WHERE order_id = $1 FOR UPDATE', [orderId])).rows[0];
}

/** Sums quantities per SKU and sorts SKUs, so rows are always locked in one order (no deadlocks). */
function perSku(items: readonly Item[]): [string, number][] {
  const m = new Map<string, number>();
  for (const i of items) m.set(i.sku, (m.get(i.sku) ?? 0) + i.quantity);
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export async function reserveInventory(tx: Queryable, orderId: string, items: readonly Item[]): Promise<ServiceEvent[]> {
  const existing = await reservation(tx, orderId);
  if (existing) {
    // A redelivered or late command: answer as before, never reserve twice.
    if (existing.status === 'reserved' || existing.status === 'shipped') return [{ type: 'InventoryReserved', payload: { orderId, reservationId: orderId } }];
    return [{ type: 'InventoryInsufficient', payload: { orderId, reason: existing.reason ?? `reservation already ${existing.status}` } }];
  }
  const wanted = perSku(items);
  const rows = await tx.query<{ sku: string; available: number }>('SELECT sku, available FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE', [wanted.map(([s]) => s)]);
  const available = new Map(rows.rows.map((r) => [r.sku, r.available]));
  const short = wanted.filter(([sku, q]) => (available.get(sku) ?? -1) < q);
  if (short.length > 0) {
    const reason = short.map(([sku, q]) => (available.has(sku) ? `${sku}: ${q} wanted, ${available.get(sku)} available` : `${sku}: unknown SKU`)).join('; ');
    await tx.query(`INSERT INTO reservations (order_id, status, items, reason) VALUES ($1, 'rejected', $2, $3)`, [orderId, JSON.stringify(items), reason]);
    return [{ type: 'InventoryInsufficient', payload: { orderId, reason } }];
  }
  for (const [sku, q] of wanted) {
    await tx.query('UPDATE stock SET available = available - $2, reserved = reserved + $2, updated_at = now() WHERE sku = $1', [sku, q]);
  }
  await tx.query(`INSERT INTO reservations (order_id, status, items) VALUES ($1, 'reserved', $2)`, [orderId, JSON.stringify(items)]);
  return [{ type: 'InventoryReserved', payload: { orderId, reservationId: orderId } }];
}

export async function releaseInventory(tx: Queryable, orderId: string): Promise<ServiceEvent[]> {
  const existing = await reservation(tx, orderId);
  if (!existing) {
    // The release overtook the reservation: leave a tombstone so a late reserve is refused.
    await tx.query(`INSERT INTO reservations (order_id, status, items, reason) VALUES ($1, 'released', '[]', 'released before it was reserved')`, [orderId]);
  } else if (existing.status === 'reserved') {
    const items = (await tx.query<{ items: Item[] }>('SELECT items FROM reservations WHERE order_id = $1', [orderId])).rows[0]?.items ?? [];
    for (const [sku, q] of perSku(items)) {
      await tx.query('UPDATE stock SET available = available + $2, reserved = reserved - $2, updated_at = now() WHERE sku = $1', [sku, q]);
    }
    await tx.query(`UPDATE reservations SET status = 'released', updated_at = now() WHERE order_id = $1`, [orderId]);
  } else if (existing.status === 'shipped') {
    return [{ type: 'ReleaseFailed', payload: { orderId, reason: 'the goods have already shipped' } }];
  }
  return [{ type: 'ReservationReleased', payload: { orderId } }];
}

/** The carrier took the package: reserved stock becomes shipped stock. */
export async function markShipped(tx: Queryable, orderId: string): Promise<ServiceEvent[]> {
  const existing = await reservation(tx, orderId);
  if (existing?.status !== 'reserved') return [];
  const items = (await tx.query<{ items: Item[] }>('SELECT items FROM reservations WHERE order_id = $1', [orderId])).rows[0]?.items ?? [];
  for (const [sku, q] of perSku(items)) {
    await tx.query('UPDATE stock SET reserved = reserved - $2, shipped = shipped + $2, updated_at = now() WHERE sku = $1', [sku, q]);
  }
  await tx.query(`UPDATE reservations SET status = 'shipped', updated_at = now() WHERE order_id = $1`, [orderId]);
  return [];
}

export interface StockRow {
  sku: string;
  name: string;
  unitPrice: number;
  initial: number;
  available: number;
  reserved: number;
  shipped: number;
  /** Bumped by every change of the row (a trigger): orders the catalogue's updates. */
  version: number;
}

const stockColumns = 'sku, name, unit_price AS "unitPrice", initial, available, reserved, shipped, version';
type RawStockRow = Omit<StockRow, 'unitPrice' | 'version'> & { unitPrice: unknown; version: unknown };
const stockRow = (r: RawStockRow): StockRow => ({ ...r, unitPrice: moneyFromSql(r.unitPrice, `stock ${r.sku} unit_price`), version: Number(r.version) });

export async function listStock(q: Queryable, skus?: readonly string[]): Promise<StockRow[]> {
  const r = skus ? await q.query<RawStockRow>(`SELECT ${stockColumns} FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku`, [skus]) : await q.query<RawStockRow>(`SELECT ${stockColumns} FROM stock ORDER BY sku`);
  return r.rows.map(stockRow);
}

export async function getStock(q: Queryable, sku: string): Promise<StockRow | undefined> {
  const row = (await q.query<RawStockRow>(`SELECT ${stockColumns} FROM stock WHERE sku = $1`, [sku])).rows[0];
  return row ? stockRow(row) : undefined;
}

/**
 * Admin: set the available quantity (and optionally name/price) of a SKU. The
 * `initial` column moves by the same delta so stock conservation stays checkable.
 */
export async function putStock(tx: Queryable, sku: string, input: { available: number; name?: string; unitPrice?: number }): Promise<StockRow> {
  const cur = await tx.query<{ available: number }>('SELECT available FROM stock WHERE sku = $1 FOR UPDATE', [sku]);
  const before = cur.rows[0];
  if (!before) {
    await tx.query('INSERT INTO stock (sku, name, unit_price, initial, available) VALUES ($1, $2, $3, $4, $4)', [sku, input.name ?? sku, input.unitPrice ?? 0, input.available]);
  } else {
    await tx.query(
      'UPDATE stock SET initial = initial + ($2 - available), available = $2, name = COALESCE($3, name), unit_price = COALESCE($4, unit_price), updated_at = now() WHERE sku = $1',
      [sku, input.available, input.name ?? null, input.unitPrice ?? null],
    );
  }
  const row = await getStock(tx, sku);
  if (!row) throw new Error(`stock row ${sku} vanished`);
  return row;
}
