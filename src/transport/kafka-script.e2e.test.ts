// scripts/kafka.sh stop/start from another checkout of the project (as a CI run in a fresh clone
// does with the broker the main checkout left running) must bring back the same broker, with its
// topics: starting the other checkout's own broker instead, with storage of its own, once left
// every client of the restart test facing "Unknown topic" for good. Restarts the shared broker;
// leaves it running.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { uniqueName } from './transport-contract.js';

const exec = promisify(execFile);
const script = fileURLToPath(new URL('../../scripts/kafka.sh', import.meta.url));
const bootstrapBrokers = ['127.0.0.1:9092'];

async function withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'ordo-test-kafka-script', bootstrapBrokers });
  try {
    return await use(admin);
  } finally {
    await admin.close();
  }
}

const clusterId = () => withAdmin(async (admin) => (await admin.metadata({ topics: [] })).id);

describe('scripts/kafka.sh', () => {
  it('stop and start from another checkout bring back the same broker, topics and all', { timeout: 240_000 }, async () => {
    const topic = uniqueName('script-restart');
    const before = await clusterId();
    await withAdmin((admin) => admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 }));
    const other = await mkdtemp(join(tmpdir(), 'ordo-other-checkout-'));
    const otherScript = join(other, 'scripts', 'kafka.sh');
    await mkdir(join(other, 'scripts'));
    await copyFile(script, otherScript);
    let after: string | undefined;
    try {
      await exec('bash', [otherScript, 'stop']);
      await exec('bash', [otherScript, 'start'], { timeout: 120_000 });
      after = await clusterId();
      expect(after, 'the broker that came back is another cluster: the stopped one, its topics and offsets are gone').toBe(before);
      expect(await withAdmin((admin) => admin.listTopics())).toContain(topic);
    } finally {
      if (after !== before) {
        // Put this checkout's broker back instead of the other checkout's (about to be deleted).
        await exec('bash', [otherScript, 'stop']).catch(() => undefined);
        await rm('/tmp/ordo-kafka-9092.stopped', { force: true });
      }
      await exec('bash', [script, 'start'], { timeout: 120_000 }); // a no-op when it runs
      await withAdmin((admin) => admin.deleteTopics({ topics: [topic] })).catch(() => undefined);
      await rm(other, { recursive: true, force: true });
    }
  });
});
