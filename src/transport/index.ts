export type { Message, MessageHeaders } from './message.js';
export type { Transport, Delivery, DeadLetter, SubscribeOptions, Subscription, TransportStatus } from './transport.js';
export { TransportClosedError, InvalidTransportNameError, PublishFailedError } from './errors.js';
export { stderrLogger, type TransportLogger } from './logger.js';
export { createInProcessTransport, type InProcessTransport, type InProcessTransportOptions } from './in-process.js';
export { createNatsTransport, type NatsTransport, type NatsTransportOptions } from './nats.js';
export { createKafkaTransport, type KafkaTransport, type KafkaTransportOptions } from './kafka.js';
export { namespacedTransport } from './namespaced.js';
export { freePort } from './free-port.js';
