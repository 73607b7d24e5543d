import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ops = fileURLToPath(new URL('../../ops/', import.meta.url));

// Debian's `prometheus` package brings promtool (.ci/run installs it).
describe('the shipped Prometheus alert rules (ops/alerts.yml)', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: ops });
    expect(stdout).toMatch(/SUCCESS: 8 rules found/);
  });

  it('fire, and stay quiet, where ops/alerts.test.yml says (promtool test rules)', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: ops });
    expect(stdout).toMatch(/SUCCESS/);
  });

  it('cover stuck sagas, COMPENSATION_FAILED, dead-letter growth, outbox lag, broker down, the reconciler and the property monitor, each with a unit test', async () => {
    const { readFile } = await import('node:fs/promises');
    const rules = await readFile(`${ops}alerts.yml`, 'utf8');
    const tests = await readFile(`${ops}alerts.test.yml`, 'utf8');
    const names = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(names).toEqual(['OrdoSagasStuck', 'OrdoCompensationFailed', 'OrdoDeadLettersGrowing', 'OrdoOutboxLagging', 'OrdoBrokerDown', 'OrdoReconcilerCorrecting', 'OrdoReconcilerFailing', 'OrdoPropertyViolated']);
    for (const name of names) expect(tests, `a promtool case fires ${name}`).toMatch(new RegExp(`alertname: ${name}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });
});
