import type { Db } from '../store/index.js';
import { putStock } from './services/inventory-service.js';

/** The demo shop's catalogue, stocked on first start (prices in cents). */
export const DEMO_CATALOGUE = [
  { sku: 'TEA-GREEN', name: 'Green tea, 100 g', unitPrice: 850 },
  { sku: 'TEA-BLACK', name: 'Black tea, 100 g', unitPrice: 750 },
  { sku: 'MUG-BLUE', name: 'Blue mug', unitPrice: 1200 },
  { sku: 'KETTLE', name: 'Kettle, 1.5 l', unitPrice: 3900 },
  { sku: 'STRAINER', name: 'Tea strainer', unitPrice: 450 },
] as const;

export async function seedCatalogue(db: Db, unitsEach = 1000): Promise<void> {
  const existing = await db.query('SELECT 1 FROM stock LIMIT 1');
  if (existing.rows.length > 0) return;
  await db.transaction(async (tx) => {
    for (const item of DEMO_CATALOGUE) await putStock(tx, item.sku, { available: unitsEach, name: item.name, unitPrice: item.unitPrice });
  });
}
