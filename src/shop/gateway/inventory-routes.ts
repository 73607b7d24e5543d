import type { FastifyInstance } from 'fastify';
import type { ShopBackend } from './backend.js';
import { HttpError, parseOr400 } from './http-errors.js';
import { principal, requireAdmin } from './order-routes.js';
import { PutInventoryBody, SkuParam } from './schemas.js';

const view = (s: { sku: string; name: string; unitPrice: number; available: number; reserved: number; shipped: number }) => ({
  sku: s.sku,
  name: s.name,
  unitPrice: s.unitPrice,
  available: s.available,
  reserved: s.reserved,
  shipped: s.shipped,
});

export function registerInventoryRoutes(app: FastifyInstance, backend: ShopBackend): void {
  app.get('/inventory', async (req) => {
    principal(req);
    return (await backend.listInventory()).map(view);
  });
  app.get('/inventory/:sku', async (req) => {
    principal(req);
    const { sku } = parseOr400(SkuParam, req.params, 'path');
    const s = await backend.getInventory(sku);
    if (!s) throw new HttpError(404, 'NOT_FOUND', `no SKU ${sku}`);
    return view(s);
  });
  app.put('/inventory/:sku', async (req) => {
    requireAdmin(req);
    const { sku } = parseOr400(SkuParam, req.params, 'path');
    const body = parseOr400(PutInventoryBody, req.body, 'inventory');
    return view(await backend.putInventory(sku, { available: body.available, ...(body.name ? { name: body.name } : {}), ...(body.unitPrice !== undefined ? { unitPrice: body.unitPrice } : {}) }));
  });
}
