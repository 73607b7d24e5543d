// Vitest global setup of the int and e2e projects: `npm test` needs nothing started
// by hand. The local services that do not answer are started (scripts/services.sh:
// PostgreSQL, NATS JetStream, the Kafka broker) and named; a Debian tool some tests
// need and this machine lacks is named in one line, with the command that installs it.
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const SERVICES = [
  { name: 'PostgreSQL', port: 5432 },
  { name: 'NATS', port: 4222 },
  { name: 'Kafka', port: 9092 },
] as const;

/** Debian package that holds each tool (spin: the SPIN cross-check; chromium: the dashboard; promtool: metrics and alert rules). */
const TOOLS = [
  { tool: 'spin', pkg: 'spin' },
  { tool: 'gcc', pkg: 'gcc' },
  { tool: 'chromium', pkg: 'chromium' },
  { tool: 'promtool', pkg: 'prometheus' },
] as const;

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function onPath(tool: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The tools this machine lacks, as `apt-get` would name them. */
export function missingPackages(): string[] {
  return TOOLS.filter((t) => !onPath(t.tool)).map((t) => t.pkg);
}

export default async function setup(): Promise<void> {
  const down = [];
  for (const s of SERVICES) if (!(await answers(s.port))) down.push(s);
  if (down.length > 0) {
    const names = down.map((s) => `${s.name} (${s.port})`).join(', ');
    process.stdout.write(`test setup: starting ${names} — not answering\n`);
    try {
      execFileSync('bash', [join(ROOT, 'scripts', 'services.sh')], { stdio: 'inherit' });
    } catch {
      throw new Error(`test setup: could not start ${names}; see the lines above (bash scripts/services.sh)`);
    }
    process.stdout.write(`test setup: started ${names}\n`);
  }
  const missing = missingPackages();
  if (missing.length > 0) {
    process.stdout.write(`test setup: missing ${missing.join(', ')}: the tests that need them skip or fail; install with: apt-get update && apt-get install -y ${missing.join(' ')}\n`);
  }
}
