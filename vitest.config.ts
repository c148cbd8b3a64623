import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests share one real Redis and spawn worker processes, but most of their time is
    // spent waiting (fake latency, timers, child processes): three files at once keep 2 cores busy
    // without starving the timing-sensitive ones (181 s with two, 161 s with three, here).
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
