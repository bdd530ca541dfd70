import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // the machine has 2 cores: at most two test files at once (integration files start real sshd fleets)
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/integration/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // real sshd hosts, ansible runs, daemons: generous bounds (each test still bounds its own loops)
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
