import type { Machine, MachineMigration } from '../machine/index.js';
import { orderMachine } from './order-machine.js';
import { orderMachineV2, orderMigrationV1toV2 } from './order-machine-v2.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

/** Machines the CLI can name (`ordo diagram order`). */
export const machines: Readonly<Record<string, AnyMachine>> = {
  order: orderMachine,
};

/** Every version of each machine the shop deploys, and the live migrations between them (`ordo migrate`). */
export const machineVersions: Readonly<Record<string, { readonly versions: readonly AnyMachine[]; readonly migrations: readonly MachineMigration<never, unknown>[] }>> = {
  order: { versions: [orderMachine, orderMachineV2], migrations: [orderMigrationV1toV2] },
};
