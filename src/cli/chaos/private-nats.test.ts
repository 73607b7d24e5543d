import { describe, expect, it } from 'vitest';
import { findNatsServer, NatsServerNotFoundError } from './private-nats.js';

describe('finding nats-server', () => {
  it('refuses a --nats-server path that is not an executable file, naming it', () => {
    expect(() => findNatsServer('/nonexistent/nats-server')).toThrow(NatsServerNotFoundError);
    expect(() => findNatsServer('/nonexistent/nats-server')).toThrow('--nats-server /nonexistent/nats-server is not an executable file');
    expect(() => findNatsServer('/tmp')).toThrow(NatsServerNotFoundError);
  });

  it('without a path, looks on PATH and then in /usr/sbin and /usr/local/bin', () => {
    const saved = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const found = (() => {
        try {
          return findNatsServer();
        } catch (e) {
          return e as Error;
        }
      })();
      if (found instanceof Error) expect(found.message).toMatch(/not found on PATH nor in \/usr\/sbin or \/usr\/local\/bin/);
      else expect(['/usr/sbin/nats-server', '/usr/local/bin/nats-server']).toContain(found);
    } finally {
      process.env['PATH'] = saved;
    }
  });
});
