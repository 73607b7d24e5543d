// `ordo/kafka`: Apache Kafka transport.
export { createKafkaTransport, type KafkaTransport, type KafkaTransportOptions } from './transport/index.js';
