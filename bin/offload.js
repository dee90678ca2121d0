#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so a fresh clone needs no build step.
// `offload local` checks its port before tsx loads (see local-port.js).
import { localPortFree } from './local-port.js';

if (process.argv[2] === 'local' && !(await localPortFree(process.argv.slice(3)))) {
  process.exitCode = 1;
} else {
  // zod is about 95 ES modules that every command imports: loaded before tsx's hooks exist, they
  // skip the hook thread's round trips (about a third of a second of each start). Same module
  // instance either way: the hooks resolve 'zod' to the file already in the ESM cache.
  await import('zod');
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(process.argv);
}
