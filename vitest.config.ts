import { defineConfig } from 'vitest/config';

// Packages resolve to their TypeScript sources through the `source` export condition, so tests
// (like `npm start`) need no build step.
const resolve = { conditions: ['source', 'import', 'module', 'node', 'default'] };

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
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration tests start routers, NATS consumers and child processes; on a 2-core
          // machine more than two files at once only adds timing noise.
          maxWorkers: 2,
        },
      },
    ],
  },
});
