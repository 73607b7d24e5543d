import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../transport/free-port.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** `ordo start` as a user runs it: the tokens appear in the start banner and nowhere in the logs. */
describe('ordo start keeps tokens out of its logs (the real CLI process)', () => {
  const adminToken = `adm_e2e_${randomBytes(12).toString('hex')}`;
  let dir: string;
  let child: ChildProcess;
  let base: string;
  let stdout = '';
  let stderr = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordo-start-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, ORDO_ADMIN_TOKEN: adminToken, ORDO_LOG_LEVEL: 'info' };
    delete env['ORDO_TOKEN_SECRET'];
    child = spawn('node', ['bin/ordo.js', 'start', '--data-dir', join(dir, 'data'), '--port', String(port), '--delivery-delay-ms', '-1'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const end = Date.now() + 120_000;
    while (!stdout.includes('customer    alice: ')) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`ordo start did not come up:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 150_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('prints the tokens once in the banner, serves requests with them, and logs each request without them', async () => {
    const customer = /customer {4}alice: (\S+)/.exec(stdout)?.[1] ?? '';
    expect(customer).toMatch(/^cust\.alice\./);
    const call = (path: string, token: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
    expect((await call('/orders', customer, { method: 'POST', body: JSON.stringify({ items: [{ sku: 'TEA-GREEN', quantity: 1 }] }) })).status).toBe(202);
    expect((await call('/orders?customerId=alice', adminToken)).status).toBe(200);
    expect((await call(`/orders?cursor=${adminToken}`, adminToken)).status).toBe(400);
    expect((await call(`/inventory/${customer.slice(0, 60)}`, customer)).status).toBe(404);
    expect((await call('/tokens', adminToken, { method: 'POST', body: JSON.stringify({ customerId: 'bob' }) })).status).toBe(201);
    expect((await call('/orders', `${adminToken}x`)).status).toBe(401);
    expect((await call('/metrics', '')).status).toBe(200); // from 127.0.0.1, an internal network

    // The secret that signs customer tokens is its own, kept beside the data, owner-only.
    expect((await stat(join(dir, 'data', 'token-secret'))).mode & 0o777).toBe(0o600);

    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(stdout.split(adminToken).length - 1).toBe(3); // the banner: dashboard URL, admin token line, `ordo demo` hint
    expect(stderr).toContain('"msg":"http request"');
    expect(stderr.match(/"msg":"http request"/g)?.length).toBeGreaterThanOrEqual(7);
    expect(stderr).not.toContain(adminToken);
    expect(stderr).not.toContain(customer);
    expect(stderr).not.toContain(customer.split('.').at(-1));
    expect(stderr).not.toMatch(/"token":"cust\./);
  });
});
