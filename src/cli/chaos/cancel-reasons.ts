/** `PaymentRefused: card declined…` → `PaymentRefused`; `timed out (PAYMENT_PROCESSING/paymentTimeout#3)` → `timed out (PAYMENT_PROCESSING/paymentTimeout)`. */
export function reasonKind(reason: string | null | undefined): string {
  if (!reason) return 'unknown';
  return (reason.split(':')[0] ?? reason).replace(/#\d+/g, '').trim();
}

/** Why the cancelled orders were cancelled, counted by kind, read through the gateway's order listing (the order view). */
export async function cancelReasons(base: string, adminToken: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let cursor: string | null = null;
  do {
    const url: string = `${base}/orders?status=CANCELED&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await fetch(url, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(10_000) });
    if (!r.ok) throw new Error(`GET /orders → ${r.status}`);
    const page = (await r.json()) as { orders: { failureReason?: string | null }[]; nextCursor: string | null };
    for (const o of page.orders) {
      const kind = reasonKind(o.failureReason);
      out[kind] = (out[kind] ?? 0) + 1;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
