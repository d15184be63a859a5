import { defineConfig } from 'vitest/config';
import NoSkipsReporter from './test/helpers/no-skips-reporter.ts';

// Two projects: fast unit + integration tests under Node, and the browser end-to-end
// tests (built renderer served by `fieldpack serve`, driven in Debian's Chromium).
export default defineConfig({
  test: {
    // Skipped tests are listed after every run; with CI set (.ci/run) any skip fails the run.
    reporters: ['default', new NoSkipsReporter()],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
