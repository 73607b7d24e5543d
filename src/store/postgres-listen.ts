import pg from 'pg';

/**
 * LISTEN for one `Db` on the PostgreSQL server: one dedicated connection shared by all
 * of its listeners, opened on the first `listen` and closed with the last. A lost
 * connection is opened again after a pause (notifications sent meanwhile are lost —
 * the callers poll as well). `wake(channel)` calls a channel's listeners here and now:
 * the Db does so after its own commits, and names itself in its notifications' payload
 * (`ownPayload`), which this listener then skips — they were woken already.
 */
export function postgresListener(
  url: string,
  applicationName: string,
  ownPayload?: string,
): {
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  wake(channel: string): void;
  close(): Promise<void>;
} {
  const listeners = new Map<string, Set<() => void>>();
  let client: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const quote = (channel: string) => `"${channel.replace(/"/g, '""')}"`;

  function wake(channel: string): void {
    for (const fn of listeners.get(channel) ?? []) {
      try {
        fn();
      } catch {
        // a listener's own failure is its own; the others are still woken
      }
    }
  }

  function connect(): Promise<void> {
    connecting ??= (async () => {
      const c = new pg.Client({ connectionString: url, application_name: `${applicationName} listen` });
      c.on('notification', (n) => {
        if (ownPayload === undefined || n.payload !== ownPayload) wake(n.channel);
      });
      c.on('error', () => lost(c));
      c.on('end', () => lost(c));
      await c.connect();
      for (const channel of listeners.keys()) await c.query(`LISTEN ${quote(channel)}`);
      client = c;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  function lost(c: pg.Client): void {
    if (client !== c) return;
    client = undefined;
    void c.end().catch(() => undefined);
    if (closed || listeners.size === 0) return;
    // Wake everyone once: what was sent while the connection was down is found by looking.
    for (const set of listeners.values()) for (const fn of set) fn();
    const again = () => {
      retry = undefined;
      if (closed || listeners.size === 0 || client) return;
      connect().catch(() => (retry = setTimeout(again, 1000)));
    };
    retry = setTimeout(again, 1000);
  }

  async function close(): Promise<void> {
    closed = true;
    if (retry) clearTimeout(retry);
    listeners.clear();
    await connecting?.catch(() => undefined);
    const c = client;
    client = undefined;
    await c?.end().catch(() => undefined);
  }

  return {
    async listen(channel, onNotify) {
      let set = listeners.get(channel);
      const first = !set;
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(onNotify);
      if (client && first) await client.query(`LISTEN ${quote(channel)}`);
      else if (!client) await connect();
      return async () => {
        const s = listeners.get(channel);
        s?.delete(onNotify);
        if (s && s.size === 0) {
          listeners.delete(channel);
          await client?.query(`UNLISTEN ${quote(channel)}`).catch(() => undefined);
        }
        if (listeners.size === 0) {
          const c = client;
          client = undefined;
          await c?.end().catch(() => undefined);
        }
      };
    },
    wake,
    close,
  };
}
