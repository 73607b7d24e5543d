// `ordo/nats`: NATS JetStream transport.
export { createNatsTransport, type NatsTransport, type NatsTransportOptions } from './transport/index.js';
