import { describe, expect, it } from 'vitest';
import { commands } from './contracts.js';
import { MAX_MONEY, moneyFromSql, MoneyOutOfRangeError, orderTotal } from './money.js';
import { OrderContext } from './order-machine.js';

describe('money', () => {
  it('reads int8 from either engine exactly: a string (pg), a number or a bigint (PGlite)', () => {
    expect(moneyFromSql('2147500000', 'x')).toBe(2_147_500_000);
    expect(moneyFromSql(2_147_500_000, 'x')).toBe(2_147_500_000);
    expect(moneyFromSql(BigInt(MAX_MONEY), 'x')).toBe(MAX_MONEY);
    expect(moneyFromSql(String(MAX_MONEY), 'x')).toBe(MAX_MONEY);
  });

  it('never rounds: past 2^53 − 1, negative or not a number is an error naming the field', () => {
    for (const bad of ['9007199254740992', 9007199254740992, 2n ** 53n, -1, '-1', '1.5', 1.5, '', null, undefined, '1e3']) {
      expect(() => moneyFromSql(bad, 'charges.amount')).toThrow(MoneyOutOfRangeError);
    }
    expect(() => moneyFromSql('9007199254740993', 'charges.amount')).toThrow(/charges\.amount: 9007199254740993 cents/);
  });

  it('totals an order, or names each line and the total that would not be exact', () => {
    expect(orderTotal([{ quantity: 100_000, unitPrice: 21_475 }])).toEqual({ ok: true, total: 2_147_500_000 });
    expect(orderTotal([{ quantity: 1, unitPrice: MAX_MONEY }])).toEqual({ ok: true, total: MAX_MONEY });
    const line = orderTotal([{ quantity: 1, unitPrice: 1 }, { quantity: 3, unitPrice: 2 ** 52 }]);
    expect(line.ok === false && line.problems.map((p) => p.path)).toEqual(['items.1']);
    const total = orderTotal([{ quantity: 1, unitPrice: 2 ** 52 }, { quantity: 1, unitPrice: 2 ** 52 }]);
    expect(total.ok === false && total.problems.map((p) => p.path)).toEqual(['items']);
  });

  it('the order context and the payment commands refuse an amount that is not a safe integer', () => {
    const context = { orderId: 'o', customerId: 'c', items: [{ sku: 's', quantity: 1, unitPrice: 1 }], total: 1 };
    expect(OrderContext.safeParse(context).success).toBe(true);
    expect(OrderContext.safeParse({ ...context, total: 2 ** 53 }).success).toBe(false);
    expect(OrderContext.safeParse({ ...context, items: [{ sku: 's', quantity: 1, unitPrice: 2 ** 53 }] }).success).toBe(false);
    expect(commands.ProcessPayment.safeParse({ orderId: 'o', customerId: 'c', amount: MAX_MONEY }).success).toBe(true);
    expect(commands.ProcessPayment.safeParse({ orderId: 'o', customerId: 'c', amount: MAX_MONEY + 1 }).success).toBe(false);
  });
});
