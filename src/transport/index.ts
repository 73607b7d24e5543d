export type { Message, MessageHeaders } from './message.js';
export type { Transport, Delivery, SubscribeOptions, Subscription } from './transport.js';
