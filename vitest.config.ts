import { defineConfig } from 'vitest/config';

// Three tiers, as in the README's Tests: unit specs beside the code, integration tests in each
// package's test/ against the real Postgres/Redis/NATS, end-to-end suites in the root test/.
// Two cores: keep at most two test files running at once.
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          // The browser suites load the widget and the console from the gateways: build them first.
          globalSetup: ['./test/support/widget-build.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // e2e suites start many processes each; run them one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
