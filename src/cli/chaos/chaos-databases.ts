import { dropPostgresDatabase, ensurePostgresDatabase, openPostgres, type Db } from '../../store/index.js';
import type { ShopDbs } from '../../shop/index.js';

const PARTS = ['orders', 'inventory', 'payment', 'shipping'] as const;

/** Where each database keeps the messages it gave up on. */
const DEAD_LETTER_TABLES: Readonly<Record<(typeof PARTS)[number], string>> = {
  orders: 'ordo_dead_letters',
  inventory: 'service_dead_letters',
  payment: 'service_dead_letters',
  shipping: 'service_dead_letters',
};

export interface ChaosDatabases {
  readonly names: readonly string[];
  /** Connections of the chaos run itself (the invariant checker's), not the shop's. */
  readonly dbs: ShopDbs;
  deadLetters(): Promise<Record<string, number>>;
  close(): Promise<void>;
  drop(): Promise<void>;
}

/**
 * The shop's four databases, `<namespace>_orders` etc., created up front so the five
 * processes do not race to create them. The namespace is new for every run.
 */
export async function createChaosDatabases(adminUrl: string, namespace: string): Promise<ChaosDatabases> {
  const names = PARTS.map((p) => `${namespace}_${p}`);
  const created: string[] = [];
  const opened: Db[] = [];
  const drop = async () => {
    await Promise.all(created.map((name) => dropPostgresDatabase(adminUrl, name)));
  };
  try {
    const urls: string[] = [];
    for (const name of names) {
      urls.push(await ensurePostgresDatabase(adminUrl, name));
      created.push(name);
    }
    for (const [i, p] of PARTS.entries()) opened.push(openPostgres({ url: urls[i] ?? '', max: 2, applicationName: `ordo-chaos-${p}` }));
  } catch (err) {
    await drop().catch(() => undefined);
    throw new Error(`cannot create the run's databases on ${adminUrl}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const [orders, inventory, payment, shipping] = opened as [Db, Db, Db, Db];
  return {
    names,
    dbs: { orders, inventory, payment, shipping },
    async deadLetters() {
      const out: Record<string, number> = {};
      for (const [i, p] of PARTS.entries()) {
        // A database whose count cannot be read is left out rather than reported as 0.
        const r = await opened[i]?.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${DEAD_LETTER_TABLES[p]}`).catch(() => undefined);
        const n = r?.rows[0]?.n;
        if (n !== undefined) out[p] = n;
      }
      return out;
    },
    async close() {
      for (const db of opened) await db.close().catch(() => undefined);
    },
    drop,
  };
}
