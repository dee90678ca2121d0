import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LoadRecordSchema, summarize, type LoadSummary } from '../../core/load-record';
import { CLOUD_DEFAULTS, LAMBDA_COLD_ESTIMATE } from '../../core/presets';
import { LOCAL_HOST } from '../../core/sim/host';
import { offload } from './spawn-offload';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'offload-simulate-'));
});

/** A usage error: exit 2, the first line names the flag and the field, no stack trace. */
function expectUsage(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.split('\n')[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('offload simulate', () => {
  it('runs a seeded workload per policy: the JSONL records are the load harness records and give its summary', async () => {
    const out = join(dir, 'records.jsonl');
    const args = ['simulate', '--model', 'resnet50', '--traffic', 'bursty:rate=30,on=2000,off=20000', '--devices', '40:low-end-phone/wifi', '--requests', '400', '--duration', '600', '--policy', 'planner,cut:0', '--seed', '7'];
    const r = await offload([...args, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { requests: number; results: { summary: LoadSummary; requestsPerSecond: number }[] };
    expect(result.requests).toBe(400);
    const records = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => LoadRecordSchema.parse(JSON.parse(l)));
    expect(records).toHaveLength(800);
    for (const [k, policy] of ['planner', 'cut:0'].entries()) {
      const mine = records.filter((x) => x.policy === policy);
      expect(result.results[k]!.summary).toEqual(JSON.parse(JSON.stringify(summarize(mine))));
    }
    // The static cut sends every request to cut 0: bursts of 30/s over reserved 10 get 429s.
    expect(result.results[1]!.summary.throttled).toBeGreaterThan(0);
    // Same seed, same figures.
    const again = await offload([...args, '--json']);
    expect((JSON.parse(again.stdout) as typeof result).results.map((x) => x.summary)).toEqual(result.results.map((x) => x.summary));
  });

  it('replays a trace file and writes one', async () => {
    const trace = join(dir, 'trace.jsonl');
    const first = await offload(['simulate', '--model', 'alexnet', '--traffic', 'steady:rate=5', '--devices', '3:low-end-phone/wifi', '--requests', '20', '--policy', 'device-only', '--trace-out', trace, '--json']);
    expect(first.code).toBe(0);
    const replay = await offload(['simulate', '--traffic', trace, '--policy', 'device-only', '--json']);
    expect(replay.code).toBe(0);
    expect((JSON.parse(replay.stdout) as { results: { summary: unknown }[] }).results[0]!.summary).toEqual((JSON.parse(first.stdout) as { results: { summary: unknown }[] }).results[0]!.summary);
  });

  it('prints the summary table and the simulation speed', async () => {
    const r = await offload(['simulate', '--model', 'alexnet', '--traffic', 'azure:rate=3', '--devices', '50', '--requests', '300', '--duration', '3600']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/policy\s+requests\s+p50 ms\s+p95 ms/);
    expect(r.stdout).toMatch(/^planner\s+300\s/m);
    expect(r.stderr).toMatch(/planner: simulated in [\d.]+ s \([\d,]+ requests\/s of simulation\)/);
  });

  it('the planner\'s prewarm (on by default) gets it out of the cold-fleet trap, --prewarm off does not; --fleet-at-arrival off keeps the earlier fleet rule', async () => {
    // Steady low-end phones on WiFi: cold, a ResNet-50 tail loses to the device; warm, cut 0 wins.
    const args = ['simulate', '--model', 'resnet50', '--traffic', 'steady:rate=2', '--devices', '20:low-end-phone/wifi', '--requests', '300', '--duration', '600', '--policy', 'planner', '--json'];
    type Out = { results: { summary: LoadSummary; prewarm: { sent: number; cold: number; costUSD: number } }[] };
    const plain = JSON.parse((await offload([...args, '--prewarm', 'off'])).stdout) as Out;
    const prewarm = JSON.parse((await offload(args)).stdout) as Out;
    expect((JSON.parse((await offload([...args, '--prewarm'])).stdout) as Out).results[0]!.prewarm).toEqual(prewarm.results[0]!.prewarm);
    expectUsage(await offload([...args, '--prewarm', 'maybe']), /--prewarm must be on or off \(got "maybe"\)/);
    expect(plain.results[0]!.summary.cloud).toBe(0);
    expect(plain.results[0]!.prewarm.sent).toBe(0);
    expect(prewarm.results[0]!.prewarm.sent).toBeGreaterThan(0);
    expect(prewarm.results[0]!.summary.cloud).toBeGreaterThan(200);
    expect(prewarm.results[0]!.summary.latencyMs.mean).toBeLessThan(plain.results[0]!.summary.latencyMs.mean);
    const atPlan = await offload([...args, '--fleet-at-arrival', 'off']);
    expect(atPlan.code).toBe(0);
    expectUsage(await offload([...args, '--fleet-at-arrival', 'maybe']), /--fleet-at-arrival must be on or off \(got "maybe"\)/);
  });

  it('the planner\'s device runs its head while the plan is in flight; --wait-for-plan makes it wait the plan out', async () => {
    // Every tail reaped between requests (10 s apart, keep-alive 1 s): a cold ResNet-50 tail loses to a low-end phone, so
    // the planner keeps every request on the device; overlapped, its plan round trip (RTT 30 ms + 10) costs nothing.
    // Prewarm off: it would start tails (the planner assumes a 5 min keep-alive) that this 1 s keep-alive reaps.
    const out = join(dir, 'overlap.jsonl');
    const args = ['simulate', '--model', 'resnet50', '--traffic', 'steady:rate=0.1', '--devices', '4:low-end-phone/wifi', '--requests', '20', '--duration', '600', '--keep-alive-ms', '1000', '--prewarm', 'off', '--policy', 'planner,device-only', '--json'];
    type Out = { waitForPlan: boolean; results: { summary: LoadSummary }[] };
    const overlapped = JSON.parse((await offload([...args, '--out', out])).stdout) as Out;
    const waiting = JSON.parse((await offload([...args, '--wait-for-plan'])).stdout) as Out;
    expect([overlapped.waitForPlan, waiting.waitForPlan]).toEqual([false, true]);
    const [planner, deviceOnly] = overlapped.results.map((r) => r.summary);
    expect(planner!.cloud).toBe(0);
    expect(planner!.latencyMs).toEqual(deviceOnly!.latencyMs);
    expect(waiting.results[0]!.summary.latencyMs.mean).toBeCloseTo(deviceOnly!.latencyMs.mean + 40, 6);
    expect(waiting.results[1]!.summary).toEqual(deviceOnly);
    const records = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => LoadRecordSchema.parse(JSON.parse(l))).filter((r) => r.policy === 'planner');
    expect(records.every((r) => r.measured.planMs === 40 && r.measured.planWaitMs === 0)).toBe(true);
  });

  it('--host local shares this machine\'s cores among busy tails (slower bursts than Lambda); --jitter spreads the times', async () => {
    const args = ['simulate', '--model', 'mobilenetv2', '--traffic', 'bursty:rate=4,on=3000,off=8000', '--devices', '12:low-end-phone/wifi', '--requests', '60', '--duration', '120', '--policy', 'cloud-only', '--reserved', '4', '--keep-alive-ms', '5000', '--json'];
    type Out = { host: unknown; functions: { tailMs: number }[]; results: { summary: LoadSummary }[] };
    const lambda = JSON.parse((await offload(args)).stdout) as Out;
    const local = JSON.parse((await offload([...args, '--host', 'local'])).stdout) as Out;
    const cores = JSON.parse((await offload([...args, '--host-cores', '2'])).stdout) as Out;
    expect(lambda.host).toBe('lambda');
    expect(local.host).toMatchObject({ name: 'local', wasmThreads: 1 });
    expect(cores.host).toMatchObject({ name: 'cores:2' });
    // On a host its measured spread applies unless --jitter says otherwise.
    expect((local as Out & { jitter: object }).jitter).toMatchObject(LOCAL_HOST.spread);
    expect((JSON.parse((await offload([...args, '--host', 'local', '--jitter', 'tail=0,cold=0'])).stdout) as Out & { jitter: object }).jitter).toMatchObject({ tailCv: 0, coldCv: 0 });
    // Cut 0 at this machine's measured lone compute (LOCAL_HOST's per cut; --host-cores: the profile's whole-model time), not the
    // cloud profile's layer sum at 1,769 MB.
    const profile = JSON.parse(readFileSync('profiles/mobilenetv2.wasm.json', 'utf8')) as { wholeModelMs: number };
    expect(local.functions[0]!.tailMs).toBe(LOCAL_HOST.warmComputeMs!.mobilenetv2![0]);
    expect(cores.functions[0]!.tailMs).toBeCloseTo(profile.wholeModelMs, 9);
    expect(lambda.functions[0]!.tailMs).not.toBeCloseTo(profile.wholeModelMs, 3);
    // The host's measured lone cold start of that tail, not the weight formula.
    expect((local.functions[0] as { coldStartMs?: number }).coldStartMs).toBe(LOCAL_HOST.coldStartMs.mobilenetv2![0]);
    expect(local.results[0]!.summary.latencyMs.p95).toBeGreaterThan(lambda.results[0]!.summary.latencyMs.p95);
    const spread = JSON.parse((await offload([...args, '--jitter', 'tail=0.3,cold=0.2'])).stdout) as Out & { jitter: { tailCv: number } };
    expect(spread.jitter.tailCv).toBe(0.3);
    expect(spread.results[0]!.summary.latencyMs).not.toEqual(lambda.results[0]!.summary.latencyMs);
    expectUsage(await offload([...args, '--host', 'laptop']), /--host must be lambda or local \(got "laptop"\)/);
    expectUsage(await offload([...args, '--host-cores', '0']), /--host-cores must be a positive integer/);
    expectUsage(await offload([...args, '--host', 'local', '--host-cores', '2']), /--host-cores: give --host local or --host-cores N, not both/);
    expectUsage(await offload([...args, '--jitter', 'tail=-1']), /--jitter must be tail=CV,cold=CV/);
    expectUsage(await offload([...args, '--jitter', 'warm=0.2']), /--jitter must be tail=CV,cold=CV/);
  });

  it('--cold-start gives the tails another cold start: the default is the local calibration, and a slower one slows every cold request by the formula', async () => {
    // ResNet-50 requests 11-13 min apart (Lambda keeps an idle environment 10 min): every tail fleet-blind sends is cold.
    const args = ['simulate', '--model', 'resnet50', '--traffic', 'sparse:gap=660000,extra=120000', '--devices', '6:low-end-phone/wifi', '--requests', '12', '--policy', 'fleet-blind,planner', '--seed', '3'];
    type Out = { coldStart?: { name: string }; functions: { cut: number; coldStartMs: number }[]; results: { summary: LoadSummary }[] };
    const run = async (extra: string[], out?: string) => {
      const r = await offload([...args, ...extra, ...(out ? ['--out', out] : []), '--json']);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as Out;
    };
    const plain = await run([], join(dir, 'cold-default.jsonl'));
    // The default output has no cold-start line: it is what it was before the flag.
    expect(plain.coldStart).toBeUndefined();
    const profile = JSON.parse(readFileSync('profiles/resnet50.wasm.json', 'utf8')) as { candidates: { cut: number; tailWeightBytes: number }[] };
    const mib = (cut: number) => profile.candidates.find((c) => c.cut === cut)!.tailWeightBytes / 2 ** 20;
    for (const f of plain.functions) expect(f.coldStartMs).toBeCloseTo(CLOUD_DEFAULTS.coldBaseMs + CLOUD_DEFAULTS.coldMsPerMB * mib(f.cut), 9);
    for (const same of ['local', `${CLOUD_DEFAULTS.coldBaseMs}+${CLOUD_DEFAULTS.coldMsPerMB}`]) {
      const r = await run(['--cold-start', same]);
      expect(r.coldStart).toMatchObject({ coldBaseMs: CLOUD_DEFAULTS.coldBaseMs, coldMsPerMB: CLOUD_DEFAULTS.coldMsPerMB });
      expect(r.results.map((x) => x.summary)).toEqual(plain.results.map((x) => x.summary));
    }
    const slow = await run(['--cold-start', '400+20'], join(dir, 'cold-slow.jsonl'));
    for (const f of slow.functions) expect(f.coldStartMs).toBeCloseTo(400 + 20 * mib(f.cut), 9);
    const records = (file: string) => readFileSync(join(dir, file), 'utf8').trimEnd().split('\n').map((l) => LoadRecordSchema.parse(JSON.parse(l))).filter((r) => r.policy === 'fleet-blind');
    const [before, after] = [records('cold-default.jsonl'), records('cold-slow.jsonl')];
    const cold = before.filter((r) => r.cold);
    expect(cold.length).toBeGreaterThan(5);
    for (const r of cold) {
      // Fleet-blind prices every tail warm: the same cut either way, each cold request slower by the formula's difference.
      const s = after.find((x) => x.i === r.i)!;
      expect(s).toMatchObject({ cut: r.cut, cold: true });
      expect(s.measured.latencyMs - r.measured.latencyMs).toBeCloseTo(400 - CLOUD_DEFAULTS.coldBaseMs + (20 - CLOUD_DEFAULTS.coldMsPerMB) * mib(r.cut), 6);
    }
    const human = await offload([...args, '--cold-start', 'lambda-estimate']);
    expect(human.stdout).toMatch(new RegExp(`^cold starts: ${LAMBDA_COLD_ESTIMATE.coldBaseMs} ms \\+ ${LAMBDA_COLD_ESTIMATE.coldMsPerMB.toFixed(2)} ms/MiB of tail weights \\(lambda-estimate: .*NOT measured on Lambda\\)`, 'm'));
    expectUsage(await offload([...args, '--cold-start', 'lambda']), /^error: option .*--cold-start must be local, lambda-estimate or BASE\+PERMIB .*\(got "lambda"\)/);
    expectUsage(await offload([...args, '--cold-start', '300']), /--cold-start must be local, lambda-estimate or BASE\+PERMIB/);
    expectUsage(await offload([...args, '--cold-start', '-5+12']), /--cold-start: BASE and PERMIB must be >= 0 \(got "-5\+12"\)/);
    expectUsage(await offload([...args, '--cold-start', '300+12', '--host', 'local']), /^error: --cold-start: applies to --host lambda; with --host local the host's measured cold starts apply/);
    expectUsage(await offload([...args, '--cold-start', 'local', '--host-cores', '2']), /^error: --cold-start: applies to --host lambda; with --host-cores the host's measured cold starts apply/);
  });

  it('refuses bad input with a one-line usage error naming the field', async () => {
    expectUsage(await offload(['simulate', '--model', 'resnet50', '--traffic', 'steady:rate=-2']), /--traffic: rate must be > 0/);
    expectUsage(await offload(['simulate', '--model', 'resnet50', '--traffic', 'bursty:rate=2']), /--traffic: bursty needs on=, off=/);
    expectUsage(await offload(['simulate', '--model', 'resnet50', '--traffic', 'poisson:rate=2']), /--traffic: unknown arrival process "poisson"/);
    expectUsage(await offload(['simulate', '--model', 'nosuch']), /--model: unknown model "nosuch"/);
    expectUsage(await offload(['simulate', '--model', 'resnet50', '--policy', 'planner,magic']), /policy: unknown policy "magic"/);
    expectUsage(await offload(['simulate', '--model', 'resnet50', '--devices', '10:low-end-phone/5g']), /--devices: unknown network "5g"/);
    const trace = join(dir, 'backwards.jsonl');
    writeFileSync(trace, ['{"t":5,"device":"d0","class":"low-end-phone","network":"wifi","model":"resnet50"}', '{"t":4,"device":"d0","class":"low-end-phone","network":"wifi","model":"resnet50"}', ''].join('\n'));
    expectUsage(await offload(['simulate', '--traffic', trace]), /line 2: t: must be >= 5/);
    const other = join(dir, 'other-model.jsonl');
    writeFileSync(other, '{"t":5,"device":"d0","class":"low-end-phone","network":"wifi","model":"nosuch"}\n');
    expectUsage(await offload(['simulate', '--traffic', other]), /unknown model "nosuch"/);
  });
});
