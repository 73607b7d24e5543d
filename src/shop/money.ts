/**
 * Money is a whole number of cents, held as a JavaScript number only while it is a safe
 * integer (up to 2^53 − 1 = 90 071 992 547 409.91 in currency units) and as `bigint` in
 * SQL. Amounts are checked where they enter (the gateway) and parsed deliberately where
 * they come back from SQL: pg returns int8 as a string, PGlite as a number or a bigint.
 */
export const MAX_MONEY = Number.MAX_SAFE_INTEGER;

/** An amount outside 0 … MAX_MONEY: never silently rounded. */
export class MoneyOutOfRangeError extends Error {
  readonly code = 'MONEY_OUT_OF_RANGE';
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(`${what}: ${value} cents is not an amount ordo can hold exactly (0 to ${MAX_MONEY} cents)`);
  }
}

/** Reads an amount of cents from a SQL row (string, number or bigint), exact or not at all. */
export function moneyFromSql(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint' && value >= 0n && value <= BigInt(MAX_MONEY)) return Number(value);
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw new MoneyOutOfRangeError(what, String(value));
}

export interface PricedLine {
  readonly quantity: number;
  readonly unitPrice: number;
}

/** What is wrong with an order's amounts, per field (`items.N` for a line, `items` for the total). */
export type AmountProblem = { readonly path: string; readonly message: string };

/**
 * The order total, or the lines (and the total) that would not be exact. The products
 * are checked as they are computed, so no rounded intermediate can pass as safe.
 */
export function orderTotal(lines: readonly PricedLine[]): { ok: true; total: number } | { ok: false; problems: AmountProblem[] } {
  const problems: AmountProblem[] = [];
  let total = 0n;
  lines.forEach((l, n) => {
    const line = BigInt(l.quantity) * BigInt(l.unitPrice);
    if (line > BigInt(MAX_MONEY)) problems.push({ path: `items.${n}`, message: `line total ${l.quantity} × ${l.unitPrice} cents is more than ${MAX_MONEY} cents, the largest amount ordo holds exactly` });
    total += line;
  });
  if (problems.length === 0 && total > BigInt(MAX_MONEY)) problems.push({ path: 'items', message: `order total ${total} cents is more than ${MAX_MONEY} cents, the largest amount ordo holds exactly` });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, total: Number(total) };
}
