export { orderMachine, OrderContext, OrderItem, SEED_TRANSITIONS, ORDER_EXTENSIONS, type OrderMachine, type OrderState } from './order-machine.js';
export { machines } from './machines.js';
