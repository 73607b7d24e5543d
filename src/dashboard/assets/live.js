/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   plain browser JavaScript without type annotations (no build step): values are `any` to the type checker; the other typed rules still apply. */
/* global fetch, sessionStorage, TextDecoder, setTimeout, AbortController */
// The server's pushes (server-sent events from GET /admin/stream), read with fetch so the
// admin token goes in the Authorization header: EventSource cannot send one.

const KEY = 'ordo.adminToken';

/** Parses `event:`/`data:` frames out of the text received so far; returns what is left over. */
export function parseFrames(buffer, onEvent) {
  let rest = buffer;
  for (let end = rest.indexOf('\n\n'); end >= 0; end = rest.indexOf('\n\n')) {
    const frame = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let event = 'message';
    const data = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) continue;
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')));
  }
  return rest;
}

/**
 * Keeps a stream open, reconnecting after a drop (1 s, doubling to 15 s). `onStatus(ok, why)`
 * reports the connection; returns `close()`, and `restart()` for a new path.
 */
export function openStream(pathOf, onEvent, onStatus) {
  let controller = null;
  let stopped = false;
  let delay = 1000;
  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch(pathOf(), { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ''}`, accept: 'text/event-stream' }, signal: controller.signal });
        if (res.status === 401 || res.status === 403) {
          onStatus(false, 'token refused', res.status);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        onStatus(true);
        delay = 1000;
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer = parseFrames(buffer + decoder.decode(value, { stream: true }), onEvent);
        }
        if (!stopped) onStatus(false, 'stream ended; reconnecting');
      } catch (err) {
        if (stopped) return;
        onStatus(false, `server unreachable (${err instanceof Error ? err.message : String(err)}); reconnecting`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(15000, delay * 2);
    }
  }
  void run();
  return {
    close() {
      stopped = true;
      controller?.abort();
    },
  };
}
