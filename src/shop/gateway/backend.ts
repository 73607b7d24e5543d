import type { OrderDetails, StockView } from './schemas.js';

export interface PlaceOrderRequest {
  readonly customerId: string;
  readonly items: readonly { sku: string; quantity: number; unitPrice: number }[];
  /** Cents, checked to be exact (money.ts) by the route. */
  readonly total: number;
  /** `Idempotency-Key` header, scoped to the customer. */
  readonly idempotencyKey?: string;
  /** Hash of the normalised request: a reused key with another body is a conflict. */
  readonly requestHash: string;
}

export type PlaceOrderResult = { kind: 'placed' | 'replayed'; orderId: string; status: string } | { kind: 'key-conflict'; orderId: string };

export type OrderSummary = Omit<OrderDetails, 'timeline'>;

export type StockChange = { kind: 'applied'; stock: StockView } | { kind: 'accepted'; commandId: string };

export interface ListOrdersFilter {
  readonly status?: string;
  readonly customerId?: string;
  readonly limit: number;
  readonly cursor?: string;
}

/** What the gateway needs from the shop; the HTTP layer only validates, authorises and maps. */
export interface ShopBackend {
  /** Unit prices (cents) of the SKUs that exist; unknown SKUs are absent. From the gateway's catalogue. */
  prices(skus: readonly string[]): Promise<Map<string, number>>;
  placeOrder(request: PlaceOrderRequest): Promise<PlaceOrderResult>;
  /** The order with its timeline (reads its whole stream). */
  getOrder(orderId: string): Promise<OrderDetails | undefined>;
  /** The order without its timeline: enough to check who owns it. */
  getOrderSummary(orderId: string): Promise<OrderSummary | undefined>;
  listOrders(filter: ListOrdersFilter): Promise<{ orders: OrderSummary[]; nextCursor?: string }>;
  /** Throws HttpError 409 when the order's state does not allow it. */
  cancelOrder(orderId: string, reason: string): Promise<{ status: string }>;
  confirmDelivery(orderId: string): Promise<{ status: string }>;
  listInventory(): Promise<StockView[]>;
  getInventory(sku: string): Promise<StockView | undefined>;
  /**
   * Sends SetStock to the inventory service and waits (up to the backend's limit) until the
   * catalogue shows it applied: `applied` with the new row, else `accepted` (it will be).
   */
  putInventory(sku: string, input: { available: number; name?: string; unitPrice?: number }, context: { requestId: string }): Promise<StockChange>;
  health(): Promise<{ ok: boolean; [detail: string]: unknown }>;
  metrics(): Promise<{ contentType: string; body: string }>;
}
