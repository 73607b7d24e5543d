import type { Migration } from '../../store/index.js';

export const ordersMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'idempotency keys',
    sql: `
      -- POST /orders with an Idempotency-Key: the same key (per customer) returns the
      -- same order; the same key with another request is a conflict.
      CREATE TABLE IF NOT EXISTS order_idempotency_keys (
        customer_id text NOT NULL,
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        order_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (customer_id, idempotency_key)
      );
    `,
  },
];
