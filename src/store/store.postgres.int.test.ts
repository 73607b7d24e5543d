import { describeBatchWritesContract } from './batch-writes.contract.js';
import { describeGlobalOrderContract } from './global-order.contract.js';
import { describeOutboxRelayContract } from './outbox-relay.contract.js';
import { describeRetentionContract } from './retention.contract.js';
import { describeStatementBatchContract } from './statement-batch.contract.js';
import { describeStoreContract } from './store.contract.js';
import { freshPostgres } from '../testing/fresh-database.js';

const server = { concurrentTransactions: true };
describeStoreContract('PostgreSQL server', () => freshPostgres('store', 24), server);
describeGlobalOrderContract('PostgreSQL server', () => freshPostgres('order', 24), server);
describeOutboxRelayContract('PostgreSQL server', () => freshPostgres('relay', 24), server);
describeStatementBatchContract('PostgreSQL server', () => freshPostgres('batch', 24));
describeBatchWritesContract('PostgreSQL server', () => freshPostgres('batch', 24), server);
describeRetentionContract('PostgreSQL server', () => freshPostgres('retention', 4));
