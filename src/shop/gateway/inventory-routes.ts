import type { FastifyInstance, FastifyRequest } from 'fastify';
import { targetParam } from './audit-hooks.js';
import type { ShopBackend } from './backend.js';
import { HttpError, parseOr400 } from './http-errors.js';
import { principal, requireAdmin } from './order-routes.js';
import { PutInventoryBody, SkuParam, type CustomerStockView, type StockView } from './schemas.js';

/** The admin sees reserved and shipped quantities; a customer only what can be ordered (others' purchases are not theirs to see). */
function viewFor(req: FastifyRequest, s: StockView): StockView | CustomerStockView {
  const base = { sku: s.sku, name: s.name, unitPrice: s.unitPrice, available: s.available };
  return principal(req).kind === 'admin' ? { ...base, reserved: s.reserved, shipped: s.shipped } : base;
}

export function registerInventoryRoutes(app: FastifyInstance, backend: ShopBackend): void {
  app.get('/inventory', async (req) => {
    principal(req);
    return (await backend.listInventory()).map((s) => viewFor(req, s));
  });
  app.get('/inventory/:sku', async (req) => {
    principal(req);
    const { sku } = parseOr400(SkuParam, req.params, 'path');
    const s = await backend.getInventory(sku);
    if (!s) throw new HttpError(404, 'NOT_FOUND', `no SKU ${sku}`);
    return viewFor(req, s);
  });
  const before = async (req: FastifyRequest) => {
    const p = SkuParam.safeParse(req.params);
    return p.success ? ((await backend.getInventory(p.data.sku)) ?? null) : undefined;
  };
  // The change is a command to the inventory service; the answer waits for the catalogue to show it (200), or says it is on its way (202).
  app.put('/inventory/:sku', { config: { audit: { action: 'stock.set', target: targetParam('sku'), before } } }, async (req, reply) => {
    requireAdmin(req);
    const { sku } = parseOr400(SkuParam, req.params, 'path');
    const body = parseOr400(PutInventoryBody, req.body, 'inventory');
    const input = { available: body.available, ...(body.name ? { name: body.name } : {}), ...(body.unitPrice !== undefined ? { unitPrice: body.unitPrice } : {}) };
    const r = await backend.putInventory(sku, input, { requestId: req.id });
    if (r.kind === 'applied') return viewFor(req, r.stock);
    return reply.code(202).send({ sku, status: 'accepted', commandId: r.commandId });
  });
}
