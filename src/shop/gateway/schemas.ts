import { z } from 'zod';

/** Request and response shapes of the HTTP API (DESIGN.md §3); the OpenAPI document is built from these. */
export const PlaceOrderBody = z
  .object({
    customerId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ -').optional(),
    items: z
      .array(
        z
          .object({
            sku: z.string().min(1).max(64),
            quantity: z.number().int('must be a whole number').positive('must be at least 1').max(1000, 'must be at most 1000'),
          })
          .strict(),
      )
      .min(1, 'an order needs at least one item')
      .max(100, 'at most 100 lines per order'),
  })
  .strict();

export const OrderIdParam = z.object({ id: z.string().uuid('must be an order id (uuid)') });
export const SkuParam = z.object({ sku: z.string().min(1).max(64) });

export const ListOrdersQuery = z
  .object({
    status: z.string().regex(/^[A-Z_]+$/, 'must be a state name, e.g. SHIPPED').optional(),
    customerId: z.string().min(1).max(64).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(500).optional(),
  })
  .strict();

export const PutInventoryBody = z
  .object({
    available: z.number().int().min(0).max(1_000_000_000),
    name: z.string().min(1).max(200).optional(),
    unitPrice: z.number().int('cents, a whole number').min(0).optional(),
  })
  .strict();

export const CancelBody = z.object({ reason: z.string().min(1).max(500).optional() }).strict().optional();

export const TokenBody = z.object({ customerId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }).strict();

export const OrderSummary = z.object({ orderId: z.string(), status: z.string() });
export const TimelineEntry = z.object({
  at: z.string(),
  type: z.string(),
  from: z.string().optional(),
  to: z.string().optional(),
  data: z.unknown(),
  causationId: z.string().optional(),
  correlationId: z.string().optional(),
});
export const OrderDetails = z.object({
  orderId: z.string(),
  customerId: z.string(),
  status: z.string(),
  items: z.array(z.object({ sku: z.string(), quantity: z.number(), unitPrice: z.number() })),
  total: z.number(),
  failureReason: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  timeline: z.array(TimelineEntry),
});
export const StockView = z.object({ sku: z.string(), name: z.string(), unitPrice: z.number(), available: z.number(), reserved: z.number(), shipped: z.number() });

export type OrderDetails = z.infer<typeof OrderDetails>;
export type StockView = z.infer<typeof StockView>;
export type TimelineEntry = z.infer<typeof TimelineEntry>;
