import { describeGlobalOrderContract } from './global-order.contract.js';
import { describeOutboxRelayContract } from './outbox-relay.contract.js';
import { describeStoreContract } from './store.contract.js';
import { freshPostgresDatabase } from './test-databases.js';

const server = { concurrentTransactions: true };
describeStoreContract('PostgreSQL server', () => freshPostgresDatabase('store'), server);
describeGlobalOrderContract('PostgreSQL server', () => freshPostgresDatabase('order'), server);
describeOutboxRelayContract('PostgreSQL server', () => freshPostgresDatabase('relay'), server);
