import { join } from 'node:path';
import { SHOP_SERVICES, type ShopService, type WiringMode } from '../../shop/index.js';
import { managedProcess, type ManagedProcess } from './managed-process.js';
import { packageRoot } from '../package-root.js';

const PACKAGE_ROOT = packageRoot();
const ORDO_BIN = join(PACKAGE_ROOT, 'bin', 'ordo.js');

export interface ShopProcessesConfig {
  readonly postgres: string;
  /** How the services reach the broker: `--nats URL --nats-ack-wait-ms MS` or `--kafka HOST:PORT`. */
  readonly brokerArgs: readonly string[];
  readonly namespace: string;
  readonly mode: WiringMode;
  readonly port: number;
  readonly adminToken: string;
  readonly relayLeaseMs: number;
  /** Short saga timeouts, so that faults also drive orders through their timeout paths. */
  readonly paymentTimeoutMs: number;
  readonly deliveryDelayMs: number;
  readonly logDir: string;
  readonly onUnexpectedExit: (service: ShopService, code: number | null, signal: NodeJS.Signals | null) => void;
}

/** The shop's production layout: one `ordo start --service NAME` process per part, on PostgreSQL + NATS or Kafka. */
export function shopProcesses(config: ShopProcessesConfig): ReadonlyMap<ShopService, ManagedProcess> {
  return new Map(
    SHOP_SERVICES.map((service) => [
      service,
      managedProcess({
        name: service,
        command: process.execPath,
        args: [
          ORDO_BIN, 'start', '--service', service, '--postgres', config.postgres, ...config.brokerArgs, '--namespace', config.namespace, '--mode', config.mode,
          '--port', String(config.port), '--no-seed', '--delivery-delay-ms', String(config.deliveryDelayMs), '--payment-timeout-ms', String(config.paymentTimeoutMs),
          '--relay-lease-ms', String(config.relayLeaseMs),
        ],
        cwd: PACKAGE_ROOT,
        env: { ...process.env, ORDO_ADMIN_TOKEN: config.adminToken, ORDO_LOG_LEVEL: process.env['ORDO_LOG_LEVEL'] ?? 'info' },
        logFile: join(config.logDir, `${service}.log`),
        ready: /is running/,
        readyTimeoutMs: 90_000,
        onUnexpectedExit: (code, signal) => config.onUnexpectedExit(service, code, signal),
      }),
    ]),
  );
}
