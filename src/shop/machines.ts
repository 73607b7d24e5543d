import type { Machine } from '../machine/index.js';
import { orderMachine } from './order-machine.js';

/** Machines the CLI can name (`ordo diagram order`). */
export const machines: Readonly<Record<string, Machine<string, { type: string }, unknown>>> = {
  order: orderMachine,
};
