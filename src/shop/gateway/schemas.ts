import { z } from 'zod';
import { MAX_MONEY } from '../money.js';

// eslint-disable-next-line no-control-regex -- finding NUL is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/**
 * Free text from a client: no control characters and well-formed Unicode (PostgreSQL's
 * jsonb refuses NUL and lone surrogates, and neither belongs in a SKU, a name or a reason).
 */
export const plainText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')
    .refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode text');

/** Request and response shapes of the HTTP API (DESIGN.md §3); the OpenAPI document is built from these. */
export const PlaceOrderBody = z
  .object({
    customerId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ -').optional(),
    items: z
      .array(
        z
          .object({
            sku: plainText(64),
            quantity: z.number().int('must be a whole number').positive('must be at least 1').max(1000, 'must be at most 1000'),
          })
          .strict(),
      )
      .min(1, 'an order needs at least one item')
      .max(100, 'at most 100 lines per order'),
  })
  .strict();

export const OrderIdParam = z.object({ id: z.string().uuid('must be an order id (uuid)') });
export const SkuParam = z.object({ sku: plainText(64) });

export const ListOrdersQuery = z
  .object({
    status: z.string().regex(/^[A-Z_]+$/, 'must be a state name, e.g. SHIPPED').optional(),
    customerId: plainText(64).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: plainText(500).optional(),
  })
  .strict();

export const PutInventoryBody = z
  .object({
    available: z.number().int().min(0).max(1_000_000_000),
    name: plainText(200).optional(),
    // multipleOf, not int(): zod's int() also refuses 2^53, with a message about whole numbers.
    unitPrice: z.number().multipleOf(1, 'cents, a whole number').min(0).max(MAX_MONEY, `at most ${MAX_MONEY} cents (the largest amount held exactly)`).optional(),
  })
  .strict();

export const CancelBody = z.object({ reason: plainText(500).optional() }).strict().optional();

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
/** What a customer sees of a SKU: its price and what can be ordered, not what others bought. */
export const CustomerStockView = z.object({ sku: z.string(), name: z.string(), unitPrice: z.number(), available: z.number() });
/** The admin's view adds the reserved and shipped quantities. */
export const StockView = CustomerStockView.extend({ reserved: z.number(), shipped: z.number() });
/** `PUT /inventory/:sku` when the inventory has not applied the change within the wait: it will. */
export const StockAccepted = z.object({ sku: z.string(), status: z.literal('accepted'), commandId: z.string() });

export type OrderDetails = z.infer<typeof OrderDetails>;
export type StockView = z.infer<typeof StockView>;
export type CustomerStockView = z.infer<typeof CustomerStockView>;
export type TimelineEntry = z.infer<typeof TimelineEntry>;
