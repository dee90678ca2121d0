import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', '**/*.test.ts'],
    exclude: ['node_modules/**', 'cdk.out/**'],
    // property tests are seeded (test/setup/fast-check.ts says why and how to vary it)
    setupFiles: ['test/setup/fast-check.ts'],
    pool: 'forks',
    // vitest's default on a 2-core machine is ONE worker, which leaves a core idle
    // while a file waits on a child process (the CLI, cdk synth, the local stack),
    // a timer (keep-alive, reaping) or a lock. Three files at a time keep both cores
    // busy through those waits (the CLI files alone: 7 % faster than with two, at
    // 5 % less CPU; docs/testing.md has the whole-suite figures). Files that share
    // prepared state take its lock (test/e2e/stack-fixture.ts), everything else
    // works in temporary folders.
    maxWorkers: 3,
    // Two workers on a machine shared by other jobs (load 20+ measured) make a
    // spawned-CLI test take over a minute: 120 s stays the default. Files whose
    // tests build zoo networks or run the CDK CLI raise their own limit
    // (vi.setConfig at the top of the file); CLI children die with their test.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
