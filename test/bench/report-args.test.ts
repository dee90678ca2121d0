import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { argsProblem } from '../../bench/report';

const known = { values: ['--rate', '--json'], flags: ['--probe'], usage: 'x [--rate N] [--json FILE] [--probe]' };

describe('argsProblem', () => {
  it('accepts known options with their values, and none at all', () => {
    expect(argsProblem(['--rate', '2', '--probe', '--json', 'out.json'], known)).toBeUndefined();
    expect(argsProblem([], known)).toBeUndefined();
  });

  it('names an option the script does not read, and what it does read', () => {
    expect(argsProblem(['--rate', '2', '--reqests', '80'], known)).toBe('unknown option --reqests (known: --rate, --json, --probe)');
  });

  it('names a stray argument', () => {
    expect(argsProblem(['80'], known)).toBe("unexpected argument '80' (options: --rate, --json, --probe)");
  });

  it('says which option lacks its value, at the end or before another option', () => {
    expect(argsProblem(['--rate'], known)).toBe('--rate needs a value');
    expect(argsProblem(['--json', '--probe'], known)).toBe('--json needs a value');
  });

  it('takes a negative number as a value, not as an option', () => {
    expect(argsProblem(['--rate', '-1'], known)).toBeUndefined();
  });

  it('names an option given without the one it goes with, which would otherwise be ignored', () => {
    const modes = { values: ['--timeline', '--pool', '--policy'], flags: ['--fast', '--slow'], usage: 'x', onlyWith: { '--policy': '--timeline', '--fast': '--pool' } };
    expect(argsProblem(['--policy', 'cut:63'], modes)).toBe('--policy only goes with --timeline');
    expect(argsProblem(['--pool', 'a.json', '--policy', 'cut:63'], modes)).toBe('--policy only goes with --timeline');
    expect(argsProblem(['--timeline', 'a.json', '--policy', 'cut:63'], modes)).toBeUndefined();
    expect(argsProblem(['--pool', 'a,b', '--fast'], modes)).toBeUndefined();
  });

  it('names the options of an exclusive group given together', () => {
    const modes = { values: ['--timeline', '--pool'], flags: ['--fast', '--slow'], usage: 'x', exclusive: [['--timeline', '--pool'], ['--fast', '--slow']] };
    expect(argsProblem(['--timeline', 'a.json', '--pool', 'a,b'], modes)).toBe('--timeline and --pool: give one of them');
    expect(argsProblem(['--fast', '--slow'], modes)).toBe('--fast and --slow: give one of them');
    expect(argsProblem(['--pool', 'a,b', '--slow'], modes)).toBeUndefined();
  });
});

describe('a bench script given an unknown option', () => {
  it('stops at once with one line and exit 2, before it starts a stack', async () => {
    const run = promisify(execFile);
    const err = await run('npx', ['tsx', 'bench/sim-validation.ts', '--reqests', '80'], { timeout: 60_000 }).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr?.split('\n')[0]).toBe(
      'error: unknown option --reqests (known: --url, --requests, --rate, --timeout-ms, --seed, --json, --resimulate, --per-request, --pool, --timeline, --policy, --until-s, --sweep, --probe, --no-first-inference, --at-probe-speed)',
    );
    expect(err?.stderr).not.toMatch(/\n\s+at /);
    // A flag of --pool alone would have started a whole validation run on a fresh stack, the flag unread.
    const alone = await run('npx', ['tsx', 'bench/sim-validation.ts', '--at-probe-speed'], { timeout: 60_000 }).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(alone?.code).toBe(2);
    expect(alone?.stderr?.split('\n')[0]).toBe('error: --at-probe-speed only goes with --pool');
    const sweepAlone = await run('npx', ['tsx', 'bench/sim-validation.ts', '--sweep', 'cold=0.9:1.1:0.05'], { timeout: 60_000 }).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(sweepAlone?.code).toBe(2);
    expect(sweepAlone?.stderr?.split('\n')[0]).toBe('error: --sweep only goes with --pool');
  }, 60_000);

  it('prints its usage on --help and exits 0', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'bench/recommend-replay.ts', '--help'], { timeout: 60_000 });
    expect(stdout).toMatch(/^usage: npx tsx bench\/recommend-replay\.ts \[--host local\|lambda\]/);
  }, 60_000);

  it('the same for a script that reads its options with node:util parseArgs (parseArgsOrExit): no stack trace', async () => {
    const run = promisify(execFile);
    const fail = (args: string[]) => run('npx', ['tsx', 'bench/cold-start.ts', ...args], { timeout: 60_000 }).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    const unknown = await fail(['--repeat', '5']);
    expect(unknown?.code).toBe(2);
    expect(unknown?.stderr?.split('\n').slice(0, 2)).toEqual([
      "error: Unknown option '--repeat'",
      'usage: npx tsx bench/cold-start.ts [--repeats N] [--config FILE] [--models a,b] [--idle-ms MS]',
    ]);
    expect(unknown?.stderr).not.toMatch(/\n\s+at /);
    const missing = await fail(['--repeats']);
    expect(missing?.code).toBe(2);
    expect(missing?.stderr?.split('\n')[0]).toBe("error: Option '--repeats <value>' argument missing");
    const { stdout } = await run('npx', ['tsx', 'bench/cold-start.ts', '--help'], { timeout: 60_000 });
    expect(stdout).toMatch(/^usage: npx tsx bench\/cold-start\.ts \[--repeats N\]/);
  }, 60_000);
});
