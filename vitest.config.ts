import { defineConfig } from 'vitest/config';

// Packages resolve to their TypeScript sources through the `source` export condition, so tests
// (like `npm start`) need no build step.
const resolve = { conditions: ['source', 'import', 'module', 'node', 'default'] };
const PACKAGING_TEST = 'packages/cli/test/packaged-build.int.test.ts';

export default defineConfig({
  resolve,
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    reporters: ['default', ['json', { outputFile: 'test-output/vitest.json' }]],
    projects: [
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          name: 'unit',
          // Unit tests first, then integration tests (which need their own worker limit).
          sequence: { groupOrder: 0 },
          include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          setupFiles: ['packages/testing/src/vitest-namespace-setup.ts'],
          include: ['packages/*/test/**/*.int.test.ts', 'examples/*/test/**/*.int.test.ts'],
          exclude: [PACKAGING_TEST, '**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration tests start routers, NATS consumers and child processes; on a 2-core
          // machine more than two files at once only adds timing noise.
          maxWorkers: 2,
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          // Last and alone: `npm run build` writes dist/, and a CLI started by another test
          // meanwhile would pick up a half-written build (bin/aegis.js prefers dist/).
          name: 'packaging',
          sequence: { groupOrder: 2 },
          include: [PACKAGING_TEST],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
