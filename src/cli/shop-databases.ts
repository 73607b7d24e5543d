import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedDatabases, hasPerServiceLayout, sharedClusterDir, type DatabaseOwner } from '../shop/index.js';
import { openPostgres, type Db } from '../store/index.js';

/** How a command names the shop's storage: a PostgreSQL server (databases `<namespace>_<service>`) or an embedded data directory. */
export interface ShopStorageFlags {
  postgres?: string;
  namespace: string;
  dataDir?: string;
}

/** The embedded shop's databases in `dir`, if a shop made them there (opened lazily; they share one cluster). */
export function embeddedShop(dir: string | undefined): ((owner: DatabaseOwner) => Promise<Db>) | undefined {
  return dir && (hasPerServiceLayout(dir) || existsSync(join(sharedClusterDir(dir), 'PG_VERSION'))) ? embeddedDatabases(dir) : undefined;
}

/** Opens a service's database if the shop created it (never creates a server database or a cluster). */
export async function openShopDatabase(flags: ShopStorageFlags, service: DatabaseOwner, embedded: ((owner: DatabaseOwner) => Promise<Db>) | undefined, applicationName: string): Promise<Db | undefined> {
  let db: Db;
  if (flags.dataDir) {
    if (!embedded) return undefined;
    db = await embedded(service);
  } else {
    const url = new URL(flags.postgres ?? '');
    url.pathname = `/${flags.namespace}_${service}`;
    db = openPostgres({ url: url.toString(), max: 2, applicationName });
  }
  const ok = await db.query<{ t: string | null }>(`SELECT to_regclass('ordo_messages')::text AS t`).then(
    (r) => r.rows[0]?.t != null,
    () => false,
  );
  if (ok) return db;
  await db.close();
  return undefined;
}

/** The usage problem with the storage flags, if any. */
export function storageFlagsProblem(flags: ShopStorageFlags): string | undefined {
  if (flags.postgres && flags.dataDir) return 'give either --postgres or --data-dir, not both';
  if (!flags.postgres && !flags.dataDir) return "give the shop's storage: --postgres URL (with --namespace) or --data-dir DIR";
  if (flags.postgres && !/^postgres(ql)?:\/\//.test(flags.postgres)) return `--postgres must be a postgres:// URL, got "${flags.postgres}"`;
  return undefined;
}
