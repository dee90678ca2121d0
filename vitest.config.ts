import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', '**/*.test.ts'],
    exclude: ['node_modules/**', 'cdk.out/**'],
    // tfjs model builds and process-spawning integration tests are slow on 2 cores;
    // timeouts are generous, correctness is asserted, speed is measured in bench/.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
