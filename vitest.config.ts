import { defineConfig } from 'vitest/config';

// Integration tests share three real servers on loopback: each file isolates
// itself (own database, Redis DB, queue prefix), so files may run in parallel,
// but a 2-core machine is best served by a small pool.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
