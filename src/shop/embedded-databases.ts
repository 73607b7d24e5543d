import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openPglite, openSharedPglite, type Db, type SharedPglite } from '../store/index.js';

/** The services that own a database. */
export type DatabaseOwner = 'orders' | 'inventory' | 'payment' | 'shipping';

/** An embedded shop's data directory from before the shared cluster: one PGlite per service in <data-dir>/<service>. */
export function hasPerServiceLayout(dataDir: string): boolean {
  return existsSync(join(dataDir, 'orders', 'PG_VERSION'));
}

/** Where the embedded shop's cluster lives: <data-dir>/shop. */
export function sharedClusterDir(dataDir: string): string {
  return join(dataDir, 'shop');
}

/**
 * The embedded shop's databases: one PGlite cluster (in <data-dir>/shop, or in memory),
 * each service in a schema and role of its own (see openSharedPglite), opened on first
 * use. A data directory of the older layout keeps it: one PGlite per service.
 */
export function embeddedDatabases(dataDir: string | undefined): (owner: DatabaseOwner) => Promise<Db> {
  if (dataDir && hasPerServiceLayout(dataDir)) return (owner) => openPglite({ dataDir: join(dataDir, owner) });
  let cluster: Promise<SharedPglite> | undefined;
  return async (owner) => (await (cluster ??= openSharedPglite(dataDir ? { dataDir: sharedClusterDir(dataDir) } : {}))).open(owner);
}
