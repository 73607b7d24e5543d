import { preparedStatement, runStatements, type Queryable } from '../../store/index.js';
import type { ServiceEvent } from '../contracts.js';
import type { OrderItem } from '../order-machine.js';
import { moneyFromSql } from '../money.js';
import { write } from '../staged-writes.js';
import { runParticipant } from '../../verify/index.js';
import { inventoryDecider, perSku, type InventoryCommand, type InventoryLocal, type InventoryShared, type ReservationStatus, type SkuStock, type StockItem } from './inventory-decider.js';
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
  status: ReservationStatus;
  items: StockItem[];
  reason: string | null;
}

const RESERVATION_COLUMNS = 'status, items, reason';
const reservationOf = (row: ReservationRow): InventoryLocal => ({ status: row.status, items: row.items, ...(row.reason === null ? {} : { reason: row.reason }) });

const skuStockOf = (rows: readonly (SkuStock & { sku: string })[]): InventoryShared => Object.fromEntries(rows.map((r) => [r.sku, { available: r.available, reserved: r.reserved, shipped: r.shipped }]));

/**
 * Locks and loads the order's reservation, then the stock rows of `items` (else of the
 * reservation's items) in SKU order: one round trip, the stock rows locked in SKU order (no
 * deadlocks).
 */
async function loadReservationAndStock(tx: Queryable, orderId: string, items?: readonly Item[]): Promise<{ local: InventoryLocal; shared: InventoryShared }> {
  const skus = items ? [...new Set(items.map((i) => i.sku))].sort() : undefined;
  const [reservation, stock] = await runStatements(tx, [
    { sql: preparedStatement(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE order_id = $1 FOR UPDATE`), params: [orderId] },
    skus
      ? { sql: preparedStatement('SELECT sku, available, reserved, shipped FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE'), params: [skus] }
      : {
          sql: preparedStatement(`SELECT sku, available, reserved, shipped FROM stock WHERE sku IN (SELECT i.item->>'sku' FROM reservations r, jsonb_array_elements(r.items) AS i(item) WHERE r.order_id = $1) ORDER BY sku FOR UPDATE`),
          params: [orderId],
        },
  ]);
  const row = reservation?.rows[0] as ReservationRow | undefined;
  return { local: row ? reservationOf(row) : undefined, shared: skuStockOf((stock?.rows ?? []) as unknown as (SkuStock & { sku: string })[]) };
}

/**
 * For the runtime property monitor, with the loaders' mappings and no locks: every stock
 * row as the decider's shared state, with each SKU's `initial` (restocks move it), and
 * every reservation by order id.
 */
export async function readInventory(q: Queryable): Promise<{ stock: InventoryShared; initial: Record<string, number>; reservations: Map<string, InventoryLocal> }> {
  // Stock first: a reservation committed after this read shows up below as an order the monitor sees in flight.
  const stock = await readStock(q);
  return { ...stock, reservations: await readReservations(q) };
}

/** Every stock row as the decider's shared state, and each SKU's `initial` (a small table: one row per SKU). */
export async function readStock(q: Queryable): Promise<{ stock: InventoryShared; initial: Record<string, number> }> {
  const rows = (await q.query<SkuStock & { sku: string; initial: number }>('SELECT sku, initial, available, reserved, shipped FROM stock ORDER BY sku')).rows;
  return { stock: skuStockOf(rows), initial: Object.fromEntries(rows.map((x) => [x.sku, x.initial])) };
}

/** Reservations by order id: of the given orders (by primary key), or of every order. */
export async function readReservations(q: Queryable, orderIds?: readonly string[]): Promise<Map<string, InventoryLocal>> {
  const r = orderIds
    ? await q.query<ReservationRow & { order_id: string }>(`SELECT order_id, ${RESERVATION_COLUMNS} FROM reservations WHERE order_id = ANY($1::text[])`, [[...orderIds]])
    : await q.query<ReservationRow & { order_id: string }>(`SELECT order_id, ${RESERVATION_COLUMNS} FROM reservations`);
  return new Map(r.rows.map((row) => [row.order_id, reservationOf(row)]));
}

/**
 * Runs the inventory decider in the caller's transaction: SQL loads the order's
 * reservation and the stock rows it touches, and stores what the decider changed.
 */
async function handle(tx: Queryable, command: InventoryCommand, items?: readonly Item[]): Promise<ServiceEvent[]> {
  const orderId = command.payload.orderId;
  const { local, shared } = await loadReservationAndStock(tx, orderId, items);
  const skus = perSku(items ?? local?.items ?? []).map(([sku]) => sku);
  const { state, answers } = runParticipant(inventoryDecider, command, { local, shared }, undefined);
  for (const sku of skus) {
    const before = shared[sku];
    const after = state.shared[sku];
    if (!before || !after || (before.available === after.available && before.reserved === after.reserved && before.shipped === after.shipped)) continue;
    await write(tx, preparedStatement('UPDATE stock SET available = $2, reserved = $3, shipped = $4, updated_at = now() WHERE sku = $1'), [sku, after.available, after.reserved, after.shipped]);
  }
  const next = state.local;
  if (next && !local) {
    const stored = next.status === 'released' ? [] : (items ?? []);
    await write(tx, preparedStatement('INSERT INTO reservations (order_id, status, items, reason) VALUES ($1, $2, $3, $4)'), [orderId, next.status, JSON.stringify(stored), next.reason ?? null]);
  } else if (next && local && next.status !== local.status) {
    await write(tx, preparedStatement('UPDATE reservations SET status = $2, updated_at = now() WHERE order_id = $1'), [orderId, next.status]);
  }
  return answers as ServiceEvent[];
}

export function reserveInventory(tx: Queryable, orderId: string, items: readonly Item[]): Promise<ServiceEvent[]> {
  return handle(tx, { type: 'ReserveInventory', payload: { orderId, items } }, items);
}

export function releaseInventory(tx: Queryable, orderId: string): Promise<ServiceEvent[]> {
  return handle(tx, { type: 'ReleaseInventory', payload: { orderId } });
}

/** The carrier took the package: reserved stock becomes shipped stock. */
export function markShipped(tx: Queryable, orderId: string): Promise<ServiceEvent[]> {
  return handle(tx, { type: 'PackageShipped', payload: { orderId } });
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

/** The stock rows `where` (placeholders from $1) picks, in SKU order. */
export async function listStockWhere(q: Queryable, where: string, params: readonly unknown[]): Promise<StockRow[]> {
  return (await q.query<RawStockRow>(preparedStatement(`SELECT ${stockColumns} FROM stock WHERE ${where} ORDER BY sku`), params)).rows.map(stockRow);
}

export function listStock(q: Queryable, skus?: readonly string[]): Promise<StockRow[]> {
  return skus ? listStockWhere(q, 'sku = ANY($1::text[])', [skus]) : listStockWhere(q, 'true', []);
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
