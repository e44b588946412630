import { configDefaults, defineConfig } from 'vitest/config';

// Three tiers, as in the README's Tests: unit specs beside the code, integration tests in each
// package's test/ against the real Postgres/Redis/NATS, end-to-end suites in the root test/.
// Two cores: at most two test files run at once, e2e suites beside each other too (each has
// its own database, subject prefix and ports), except SOLO.

// e2e suites that measure time (Telegram's pacing windows, a first message's wait, a stopped or
// killed process's reconnects, a hung dependency's timeouts): a neighbour's load would move what
// they measure, so they run last, one at a time.
const SOLO = [
  'test/first-message.e2e.test.ts',
  'test/telegram-limits.e2e.test.ts',
  'test/telegram-pool.e2e.test.ts',
  'test/failover/**/*.test.ts',
  'test/observability/health.e2e.test.ts',
];

const E2E = {
  testTimeout: 120_000,
  hookTimeout: 120_000,
};

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
          exclude: [...configDefaults.exclude, ...SOLO],
          // The browser suites load the widget and the console from the gateways: build them first.
          globalSetup: ['./test/support/widget-build.ts'],
          ...E2E,
        },
      },
      {
        test: {
          name: 'e2e-solo',
          include: SOLO,
          ...E2E,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
