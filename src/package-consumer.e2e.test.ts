import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_TS, GOOD_TS, USE_MJS } from './package-consumer-fixture.js';

// A new user's first contact: pack ordo, install the tarball into an empty project (no
// tsx, no TypeScript in it), import every subpath from plain Node, type-check a consumer
// against the shipped declarations, and run the command through npx.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Packed {
  filename: string;
  size: number;
  entryCount: number;
  files: { path: string }[];
}

describe('the packed package in a fresh project', () => {
  let dir: string;
  let project: string;
  let packed: Packed;
  const inProject = (cmd: string, args: string[]) => run(cmd, args, { cwd: project, env: { ...process.env, npm_config_loglevel: 'error' }, maxBuffer: 16 * 1024 * 1024 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ordo-consumer-'));
    project = join(dir, 'app');
    // `npm pack` builds dist/ first (the prepare script).
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    packed = (JSON.parse(stdout) as Packed[])[0]!;
    console.log(`ordo tarball: ${packed.filename}, ${(packed.size / 1024).toFixed(0)} kB, ${packed.entryCount} files`);
    writeFileSync(join(dir, 'package.json'), '{}'); // npm must not look above the temp folder
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await inProject('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed.filename)]);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the build and what it reads at run time, and no test, fixture or source file', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('dist/src/index.js');
    expect(paths).toContain('dist/src/index.d.ts');
    expect(paths).toContain('dist/src/dashboard/assets/index.html');
    expect(paths).toContain('bin/ordo.js');
    expect(paths.filter((p) => /\.test\.|\.contract\.|-contract\.|fixture|e2e|^src\/|\.ts$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
    // declaration maps would send "go to definition" to src/, which is not shipped
    expect(paths.filter((p) => p.endsWith('.d.ts.map'))).toEqual([]);
  });

  it('installs without tsx or TypeScript', () => {
    const installed = readdirSync(join(project, 'node_modules'));
    expect(installed).toContain('ordo');
    expect(installed).not.toContain('tsx');
    expect(installed).not.toContain('typescript');
  });

  it('imports every subpath from plain Node ESM and calls one function of each', async () => {
    writeFileSync(join(project, 'use.mjs'), USE_MJS);
    const { stdout } = await inProject(process.execPath, ['use.mjs']);
    expect(stdout.trim().split('\n')).toEqual([
      'ordo B 1',
      'ordo/machine stateDiagram-v2',
      'ordo/postgres postgres',
      'ordo/nats refused',
      'ordo/kafka function',
      'ordo/testing 0',
      'ordo/verify true',
    ]);
  });

  it('type-checks a consumer against the shipped declarations, and refuses a mistyped event', async () => {
    writeFileSync(join(project, 'good.ts'), GOOD_TS);
    writeFileSync(join(project, 'bad.ts'), BAD_TS);
    await expect(inProject(process.execPath, [TSC, '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'good.ts'])).resolves.toBeDefined();
    const bad = await inProject(process.execPath, [TSC, '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'bad.ts']).then(
      () => 'compiled',
      (e: { stdout: string }) => e.stdout,
    );
    expect(bad).toMatch(/bad\.ts\(\d+,\d+\): error TS\d+: .*Payed/);
  });

  it("runs the README's five-minute path as it is written", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /<!-- the consumer test runs this block as quickstart\.mjs -->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'the README keeps its quickstart block').toBeDefined();
    writeFileSync(join(project, 'quickstart.mjs'), block ?? '');
    const { stdout } = await inProject(process.execPath, ['quickstart.mjs']);
    expect(stdout.trim().split('\n')).toEqual(['verified: true', 'state: PAID']);
  });

  it("verifies a user's own system module: compiled JavaScript as it is, TypeScript with a clear word when tsx is missing", async () => {
    const source = readFileSync(join(ROOT, 'examples', 'trip-booking', 'trip-system.ts'), 'utf8');
    writeFileSync(join(project, 'trip-system.ts'), source);
    // The user's build: TypeScript compiled to an ES module (the repository's compiler; the project has none).
    const ts = (await import('typescript')).default;
    writeFileSync(join(project, 'trip-system.mjs'), ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
    const verified = await inProject('npx', ['--no-install', 'ordo', 'verify', 'trip-system.mjs', '--orders', '1', '--json']);
    const r = JSON.parse(verified.stdout) as { model: string; violations: unknown[]; properties: { status: string }[] };
    expect(r.model).toBe('trip');
    expect(r.violations).toEqual([]);
    expect(r.properties.length).toBeGreaterThan(0);
    expect(r.properties.filter((p) => p.status !== 'holds' && p.status !== 'vacuous')).toEqual([]);
    const refused = await inProject('npx', ['--no-install', 'ordo', 'verify', 'trip-system.ts']).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(refused?.code).toBe(2);
    expect(refused?.stderr).toMatch(/trip-system\.ts is TypeScript: install tsx in your project \(npm i -D tsx\)/);
  });

  it('runs npx ordo --help and npx ordo diagram order', async () => {
    expect(existsSync(join(project, 'node_modules', '.bin', 'ordo'))).toBe(true);
    const help = await inProject('npx', ['--no-install', 'ordo', '--help']);
    expect(help.stdout).toMatch(/Usage: ordo/);
    const diagram = await inProject('npx', ['--no-install', 'ordo', 'diagram', 'order']);
    expect(diagram.stdout).toMatch(/^stateDiagram-v2/);
    expect(diagram.stdout).toContain('SHIPPED --> DELIVERED: DeliveryConfirmed');
  });
});
