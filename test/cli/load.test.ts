/**
 * `offload load` bad input: each is a usage error (exit 2) whose message names
 * what is wrong, before anything is loaded or sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { offload } from './spawn-offload';

const dir = mkdtempSync(join(tmpdir(), 'offload-load-cli-'));
const badTrace = join(dir, 'bad.jsonl');
writeFileSync(badTrace, '{"t":0,"device":"d0","class":"flagship-phone","network":"4g","model":"tinychain"}\n{"t":-5,"device":"d0","class":"flagship-phone","network":"4g","model":"tinychain"}\n');
const emptyTrace = join(dir, 'empty.jsonl');
writeFileSync(emptyTrace, '# nothing\n');
const url = 'http://127.0.0.1:9';

describe('offload load: bad input is a one-line usage error', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [['--url', url, '--model', 'tinychain', '--rate', '0'], /--rate must be a number > 0 \(got "0"\)/],
    [['--url', url, '--model', 'tinychain', '--rate', '-2'], /--rate must be a number > 0/],
    [['--url', url, '--model', 'tinychain', '--policy', 'greedy'], /unknown policy "greedy" \(one of planner, fleet-blind, cloud-only, device-only, cut:C\)/],
    [['--url', url, '--model', 'tinychain', '--policy', 'cut:x'], /cut:C needs a non-negative integer cut/],
    [['--url', url, '--trace', join(dir, 'missing.jsonl')], /cannot read trace .*missing\.jsonl: no such file/],
    [['--url', url, '--trace', dir], /cannot read trace .*: is a directory/],
    [['--url', url, '--trace', badTrace], /bad\.jsonl line 2: t: must be >= 0/],
    [['--url', url, '--trace', emptyTrace], /holds no arrivals/],
    [['--url', 'localhost:3000', '--model', 'tinychain'], /--url must be an http\(s\) URL/],
    [['--url', 'not a url', '--model', 'tinychain'], /--url must be an http\(s\) URL/],
    [['--url', url], /--model is required unless --trace is given/],
    [['--url', url, '--model', 'tinychain', '--device', 'toaster'], /--device: unknown "toaster"/],
    [['--url', url, '--model', 'tinychain', '--network', '5g'], /--network: unknown "5g"/],
    [['--url', url, '--model', 'tinychain', '--compute-head'], /--compute-head applies to this-machine devices only/],
  ])('offload load %j', async (args, message) => {
    const r = await offload(['load', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
