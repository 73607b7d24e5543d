import type { VersionedSystem } from '../../verify/index.js';
import { shopVersions } from './order-system.js';

/**
 * A versioned system module with a wrong v1→v2 mapping, for the CLI test of
 * `ordo verify <module> --migration 1:2`: an order still reserving is moved to CANCELED,
 * so the reservation's reply lands in CANCELED and the stock stays reserved.
 */
export const system = (o: { keys: number }): VersionedSystem => {
  const s = shopVersions({ orders: o.keys });
  return { ...s, migrations: s.migrations.map((m) => ({ ...m, states: { ...m.states, INVENTORY_RESERVING: 'CANCELED' } })) };
};
