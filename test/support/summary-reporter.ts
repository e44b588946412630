import { mkdirSync, writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/** Where each run leaves every test file's time, for choosing tiers (README § Tests). */
export const DURATIONS_FILE = 'test-results/test-durations.json';
const SLOWEST_SHOWN = 12;

/**
 * Ends the run with the slowest files (their times also go to `DURATIONS_FILE`) and one plain
 * line, `N passed, N failed, N skipped`, which CI reads whatever the runner; vitest's own
 * summary stays above it.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0)
        counts.failed++;
    }
    const durations = testModules
      .map((module) => ({
        file: module.relativeModuleId,
        project: module.project.name,
        seconds: Math.round(module.diagnostic().duration) / 1000,
      }))
      .sort((a, b) => b.seconds - a.seconds);
    writeDurations(durations);
    const slowest = durations
      .slice(0, SLOWEST_SHOWN)
      .map(
        ({ file, project, seconds }) =>
          `  ${seconds.toFixed(1).padStart(7)} s  ${project}  ${file}`,
      );
    process.stdout.write(
      `\nslowest test files (all in ${DURATIONS_FILE}):\n${slowest.join('\n')}\n` +
        `\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}

function writeDurations(durations: ReadonlyArray<object>): void {
  try {
    mkdirSync('test-results', { recursive: true });
    writeFileSync(DURATIONS_FILE, `${JSON.stringify(durations, null, 2)}\n`);
  } catch (error) {
    process.stderr.write(`could not write ${DURATIONS_FILE}: ${String(error)}\n`);
  }
}
