import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerStart } from './start-command.js';
import { shopOptionsFromFlags, StartFlagError, type StartFlags } from './start-options.js';

/** The flags exactly as commander hands them to `ordo start` (its action replaced, so nothing starts). */
async function startFlags(...args: string[]): Promise<StartFlags> {
  const program = new Command('ordo');
  registerStart(program);
  const start = program.commands.find((c) => c.name() === 'start');
  if (!start) throw new Error('no start command');
  let flags: StartFlags | undefined;
  start.action((f: StartFlags) => void (flags = f));
  await program.parseAsync(['node', 'ordo', 'start', ...args]);
  if (!flags) throw new Error('start did not run');
  return flags;
}

describe('ordo start flags', () => {
  it('the saga timeouts given on the command line reach the order machine', async () => {
    const options = shopOptionsFromFlags(await startFlags('--payment-timeout-ms', '3000', '--reservation-timeout-ms', '4000'));
    expect(options.delays).toEqual({ paymentTimeout: '3000ms', reservationTimeout: '4000ms' });
  });

  it('the NATS ack wait and the relay lease reach the transport and the shop', async () => {
    const options = shopOptionsFromFlags(await startFlags('--postgres', 'postgres://x@h/db', '--nats', 'nats://127.0.0.1:4222', '--nats-ack-wait-ms', '2000', '--relay-lease-ms', '3000'));
    expect(options.transport).toMatchObject({ kind: 'nats', ackWaitMs: 2000 });
    expect(options.relayLeaseMs).toBe(3000);
  });

  it('rejects an ack wait without NATS and a lease that is not a number', () => {
    expect(() => shopOptionsFromFlags({ ...startFlagsDefaults(), natsAckWaitMs: '2000' })).toThrow(/--nats-ack-wait-ms applies to the NATS transport/);
    expect(() => shopOptionsFromFlags({ ...startFlagsDefaults(), relayLeaseMs: 'soon' })).toThrow(StartFlagError);
  });

  it('--metrics-port gives a service process a metrics listener, on 127.0.0.1 unless --metrics-host says otherwise', async () => {
    const server = ['--postgres', 'postgres://x@h/db', '--nats', 'nats://127.0.0.1:4222'];
    expect(shopOptionsFromFlags(await startFlags('--service', 'orders', ...server, '--metrics-port', '9464')).metricsListener).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(shopOptionsFromFlags(await startFlags('--service', 'payment', ...server, '--metrics-port', '9465', '--metrics-host', '0.0.0.0')).metricsListener).toEqual({ port: 9465, host: '0.0.0.0' });
    // Off by default and with 0.
    expect(shopOptionsFromFlags(await startFlags('--service', 'orders', ...server)).metricsListener).toBeUndefined();
    expect(shopOptionsFromFlags(await startFlags('--service', 'orders', ...server, '--metrics-port', '0')).metricsListener).toBeUndefined();
  });

  it('rejects a metrics port that is not a port, and one for a process whose gateway serves /metrics already', () => {
    const orders: StartFlags = { ...startFlagsDefaults(), service: 'orders', postgres: 'postgres://x@h/db', nats: 'nats://127.0.0.1:4222' };
    for (const bad of ['-1', '65536', '94.64', 'http', '']) expect(() => shopOptionsFromFlags({ ...orders, metricsPort: bad }), bad).toThrow(/--metrics-port must be a whole number from 0 to 65535/);
    expect(() => shopOptionsFromFlags({ ...orders, service: 'gateway', metricsPort: '9464' })).toThrow(/--metrics-port is for a process without the gateway/);
    expect(() => shopOptionsFromFlags({ ...startFlagsDefaults(), metricsPort: '9464' })).toThrow(/--metrics-port is for a process without the gateway/);
  });

  it('the security flags reach the gateway, and nothing is set when none is given', async () => {
    expect(shopOptionsFromFlags(await startFlags()).security).toBeUndefined();
    const options = shopOptionsFromFlags(
      await startFlags(
        '--rate-limit-token', '60', '--rate-limit-ip', '0', '--request-timeout-ms', '5000', '--cors-origin', 'https://shop.example,http://localhost:5173',
        '--internal-networks', '10.0.0.0/8,private', '--trust-proxy', '127.0.0.1', '--no-access-log',
      ),
    );
    expect(options.security).toEqual({
      rateLimit: { perToken: 60, perIp: 0 },
      requestTimeoutMs: 5000,
      corsOrigins: ['https://shop.example', 'http://localhost:5173'],
      internalNetworks: ['10.0.0.0/8', 'private'],
      trustProxy: '127.0.0.1',
      accessLog: false,
    });
    expect(shopOptionsFromFlags(await startFlags('--trust-proxy', 'true')).security).toEqual({ trustProxy: true });
  });

  it('rejects security flags that cannot work, naming the flag', () => {
    const d = startFlagsDefaults();
    const cases: [Partial<StartFlags>, RegExp][] = [
      [{ rateLimitToken: '-1' }, /--rate-limit-token/],
      [{ rateLimitIp: 'lots' }, /--rate-limit-ip/],
      [{ requestTimeoutMs: '10' }, /--request-timeout-ms must be at least 1000/],
      [{ corsOrigin: '*' }, /--cors-origin/],
      [{ corsOrigin: 'https://shop.example/path' }, /--cors-origin/],
      [{ internalNetworks: '10.0.0.0/99' }, /--internal-networks/],
      [{ trustProxy: 'proxy.example' }, /--trust-proxy: "proxy.example" is not a network/],
    ];
    for (const [flags, message] of cases) expect(() => shopOptionsFromFlags({ ...d, ...flags }), JSON.stringify(flags)).toThrow(message);
  });

  it('--order-machine 2 runs both order machine versions; --migrate-orders moves v1 orders at start; anything else is a clear error', () => {
    expect(shopOptionsFromFlags({ ...startFlagsDefaults(), orderMachine: '2' })).toMatchObject({ orderMachineVersion: 2 });
    expect(shopOptionsFromFlags({ ...startFlagsDefaults(), orderMachine: '2', migrateOrders: true })).toMatchObject({ orderMachineVersion: 2, migrateOrders: true });
    expect(shopOptionsFromFlags({ ...startFlagsDefaults(), orderMachine: '1' })).not.toHaveProperty('orderMachineVersion');
    for (const bad of ['3', 'v2', '']) expect(() => shopOptionsFromFlags({ ...startFlagsDefaults(), orderMachine: bad }), bad).toThrow(/--order-machine must be 1 or 2/);
    expect(() => shopOptionsFromFlags({ ...startFlagsDefaults(), migrateOrders: true })).toThrow(/--migrate-orders moves v1 orders to v2: add --order-machine 2/);
  });
});

function startFlagsDefaults(): StartFlags {
  return { dataDir: '.ordo', mode: 'orchestration', port: '3000', host: '127.0.0.1', deliveryDelayMs: '5000', seed: true, namespace: 'ordo' };
}
