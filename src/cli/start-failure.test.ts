import { expect, it } from 'vitest';
import { startFailure } from './start-failure.js';

it('names a busy or forbidden port and an unreachable server in one line the operator can act on', () => {
  expect(startFailure(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', address: '127.0.0.1', port: 3000 }), '0.0.0.0', 3000)).toBe(
    'port 3000 on 127.0.0.1 is in use (another ordo still running?); choose another with --port',
  );
  expect(startFailure(Object.assign(new Error('listen EACCES'), { code: 'EACCES' }), '127.0.0.1', 80)).toMatch(/^not allowed to listen on port 80 /);
  expect(startFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), '127.0.0.1', 3000)).toMatch(/^connect ECONNREFUSED 127\.0\.0\.1:5432 — is the server running\?/);
  expect(startFailure(new Error('something else'), '127.0.0.1', 3000)).toBe('something else');
  expect(startFailure('a string', '127.0.0.1', 3000)).toBe('a string');
});
