import type { Migration } from '../store/index.js';

export const SIMULATION_MIGRATION_SCOPE = 'ordo_simulation';

/**
 * The simulated services' books. Each service decides once per order (the ledger, its
 * idempotency by business key); every side effect is a row under a UNIQUE constraint,
 * so doing one twice fails loudly instead of being hidden.
 */
export const simulationMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'simulated services',
    sql: `
      CREATE TABLE sim_handled (
        message_id text PRIMARY KEY,
        service text NOT NULL,
        type text NOT NULL,
        order_id text NOT NULL,
        fate text NOT NULL,
        replies jsonb NOT NULL
      );
      CREATE TABLE sim_ledger (
        service text NOT NULL,
        order_id text NOT NULL,
        outcome text NOT NULL,
        PRIMARY KEY (service, order_id)
      );
      CREATE TABLE sim_reservations (order_id text NOT NULL UNIQUE, reservation_id text NOT NULL, quantity integer NOT NULL);
      CREATE TABLE sim_releases (order_id text NOT NULL UNIQUE, quantity integer NOT NULL);
      CREATE TABLE sim_charges (order_id text NOT NULL UNIQUE, payment_id text NOT NULL, amount integer NOT NULL);
      CREATE TABLE sim_refunds (order_id text NOT NULL UNIQUE, amount integer NOT NULL);
      CREATE TABLE sim_shipments (order_id text NOT NULL UNIQUE, tracking_number text NOT NULL);
    `,
  },
];
