// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layers from DESIGN.md §2, bottom to top. A layer may import only the layers
// listed for it, and only through their index.ts.
const layers = {
  machine: [],
  store: ['machine'],
  transport: ['machine'],
  observe: ['machine'],
  eventsourcing: ['machine', 'store', 'transport', 'observe'],
  runtime: ['machine', 'store', 'transport', 'observe', 'eventsourcing'],
  verify: ['machine'],
  testing: ['machine', 'store', 'transport', 'observe', 'eventsourcing', 'runtime', 'verify'],
  shop: ['machine', 'store', 'transport', 'observe', 'eventsourcing', 'runtime', 'verify'],
  dashboard: ['machine', 'store', 'transport', 'observe', 'eventsourcing', 'runtime', 'verify', 'shop'],
  cli: ['machine', 'store', 'transport', 'observe', 'eventsourcing', 'runtime', 'verify', 'shop', 'dashboard', 'testing'],
};
const all = Object.keys(layers);
const ioModules = ['node:*', 'fs', 'path', 'crypto', 'os', 'child_process', 'pg', '@electric-sql/*', '@nats-io/*', '@platformatic/*', 'fastify', 'pino', 'prom-client'];

const layerRules = Object.entries(layers).map(([layer, allowed]) => {
  const forbidden = all.filter((l) => l !== layer && !allowed.includes(l));
  const pure = layer === 'machine' || layer === 'verify';
  return {
    files: [`src/${layer}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(forbidden.length
              ? [{ regex: `^(\\.\\./)+(${forbidden.join('|')})(/|$)`, message: `${layer}/ may not import a layer above it or beside it (DESIGN.md §2).` }]
              : []),
            {
              regex: `^(\\.\\./)+(${all.join('|')})/(?!index\\.js$).+`,
              message: 'Import another layer only through its index.js.',
            },
            ...(pure ? [{ group: ioModules, message: `${layer}/ is pure: no I/O, clocks or Node built-ins.` }] : []),
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/**', '.ordo/**', '.cache/**', '.scratch/**', 'dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/machine/**/*.ts', 'src/verify/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-globals': ['error', { name: 'Date', message: 'Pure layer: take time as input.' }, { name: 'setTimeout', message: 'Pure layer.' }, { name: 'process', message: 'Pure layer.' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Pure layer: take randomness as input.' }],
    },
  },
  ...layerRules,
);
