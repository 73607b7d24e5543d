export { orderMachine, OrderContext, OrderItem, SEED_TRANSITIONS, ORDER_EXTENSIONS, type OrderMachine, type OrderState } from './order-machine.js';
export { machines } from './machines.js';
export { startShop, SHOP_SERVICES, type ShopOptions, type RunningShop, type ShopService, type StorageChoice } from './shop.js';
export type { TransportChoice } from './transport-choice.js';
export type { WiringMode } from './services/service-definitions.js';
export { DEFAULT_SIMULATION, type SimulationOptions } from './simulation.js';
export { DEMO_CATALOGUE } from './catalogue.js';
export { orderDecider, orderStream, ORDER_STATE_SCHEMA, ORDER_COMMAND_EVENTS, CreateOrder, type OrderCommand, type OrderEvent, type OrderAggregateState } from './order-aggregate.js';
export { orderViewProjection, listOrders, getOrderView, getOrderDetails, ORDER_VIEW_TABLE, MAX_PAGE, type OrderView, type OrderPage, type ListOrdersQuery, type OrderDetails } from './order-view.js';
