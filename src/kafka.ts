// `ordo/kafka`: Apache Kafka transport.
export { createKafkaTransport, namespacedTransport, type KafkaTransport, type KafkaTransportOptions } from './transport/index.js';
