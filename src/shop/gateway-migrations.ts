import type { Migration } from '../store/index.js';

/**
 * The gateway's own tables. They live in the orders database: the gateway is the orders
 * service's front door (it starts order sagas through the engine there, and a gateway
 * process already holds that connection), and every gateway replica must share them
 * (revocations, the audit trail, the signing secret on the server layout). No other
 * service reads or writes them; the `gateway_` prefix marks them.
 */
export const gatewayMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'catalogue, stock requests, revoked tokens, audit trail, secrets',
    sql: `
      -- Prices and availability as the inventory's StockChanged events say (catalogue-view.ts).
      CREATE TABLE IF NOT EXISTS gateway_catalogue (
        sku text PRIMARY KEY,
        name text NOT NULL,
        unit_price bigint NOT NULL CHECK (unit_price >= 0),
        available integer NOT NULL,
        reserved integer NOT NULL,
        shipped integer NOT NULL,
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- PUT /inventory/:sku: the SetStock command sent, and when the catalogue saw it applied.
      CREATE TABLE IF NOT EXISTS gateway_stock_requests (
        command_id text PRIMARY KEY,
        sku text NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        applied_version bigint,
        applied_at timestamptz
      );
      CREATE TABLE IF NOT EXISTS gateway_revoked_tokens (
        token_id text PRIMARY KEY,
        revoked_at timestamptz NOT NULL DEFAULT now(),
        revoked_by text NOT NULL,
        reason text
      );
      -- Every admin action: written before it runs (outcome 'pending'), completed after.
      CREATE TABLE IF NOT EXISTS gateway_audit (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        request_id text NOT NULL,
        method text NOT NULL,
        path text NOT NULL,
        target text,
        input jsonb,
        before jsonb,
        outcome text NOT NULL DEFAULT 'pending',
        status integer,
        after jsonb,
        finished_at timestamptz
      );
      CREATE INDEX IF NOT EXISTS gateway_audit_action ON gateway_audit (action, id DESC);
      -- The token signing secret on the server layout, shared by every gateway replica.
      CREATE TABLE IF NOT EXISTS gateway_secrets (
        name text PRIMARY KEY,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];
