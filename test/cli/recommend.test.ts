import { describe, expect, it } from 'vitest';
import { OffloadConfigSchema } from '../../cdk/config';
import { LAMBDA_COLD_ESTIMATE } from '../../core/presets';
import { offload } from './spawn-offload';

const args = ['recommend', '--model', 'resnet50', '--traffic', 'steady:rate=1.5', '--devices', '200:low-end-phone/wifi', '--requests', '3000', '--duration', '3600', '--memory', '1769', '--provisioned', '0,4,16', '--search-requests', '1500'];

describe('offload recommend', () => {
  it('prints the best configurations and a config snippet that cdk/config accepts', async () => {
    const r = await offload([...args, '--p95', '1200', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { best: { p95Ms: number; monthlyUSD: { total: number } }[]; snippet: unknown; wallMs: { search: number } };
    expect(out.best.length).toBeGreaterThan(0);
    expect(out.best.every((b) => b.p95Ms <= 1200)).toBe(true);
    expect(() => OffloadConfigSchema.parse(out.snippet)).not.toThrow();
    const human = await offload([...args, '--p95', '1200']);
    expect(human.stdout).toMatch(/\$\/month\s+of which PC\s+p50 ms\s+p95 ms/);
    expect(human.stdout).toMatch(/"reservedConcurrency": \d+/);
    expect(human.stderr).toMatch(/search: 3 configurations on the first 1500 requests in [\d.]+ s/);
  });

  it('an infeasible budget is a one-line error saying how far the cheapest configuration is', async () => {
    const r = await offload([...args, '--p95', '1000', '--budget', '0.01']);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^offload: --budget: no configuration meets \$0\.01\/month with p95 <= 1000 ms: the cheapest that meets the p95 costs \$[\d.]+\/month, \$[\d.]+ \([\d.]+x\) over/);
  });

  it('refuses bad input naming the flag', async () => {
    const bad = await offload(['recommend', '--model', 'resnet50', '--traffic', 'steady:rate=0', '--devices', '10']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--traffic: rate must be > 0/);
    const budget = await offload([...args, '--budget', '-3']);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toMatch(/--budget must be a number > 0/);
    const cap = await offload([...args, '--reserved', '2,0']);
    expect(cap.code).toBe(2);
    expect(cap.stderr).toMatch(/--reserved/);
    const cold = await offload([...args, '--cold-start', '300+x']);
    expect(cold.code).toBe(2);
    expect(cold.stderr).toMatch(/--cold-start must be local, lambda-estimate or BASE\+PERMIB/);
    const onHost = await offload([...args, '--host', 'local', '--cold-start', 'lambda-estimate']);
    expect(onHost.code).toBe(2);
    expect(onHost.stderr.split('\n')[0]).toBe("error: --cold-start: applies to --host lambda; with --host local the host's measured cold starts apply");
  });

  it('--cold-start prices the search\'s cold starts with another formula and says which', async () => {
    const r = await offload([...args, '--p95', '1500', '--cold-start', 'lambda-estimate', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { coldStart: { name: string; coldBaseMs: number }; searched: { provisioned: Record<string, number>; monthlyUSD: { total: number } }[] };
    expect(out.coldStart).toMatchObject({ name: 'lambda-estimate', coldBaseMs: LAMBDA_COLD_ESTIMATE.coldBaseMs });
    const plain = JSON.parse((await offload([...args, '--p95', '1500', '--json'])).stdout) as typeof out;
    expect(plain.coldStart).toBeUndefined();
    // Steady traffic: the planner's prewarm keeps every request warm, and the on-demand configuration pays for the
    // prewarms' init, now longer; with provisioned environments only, nothing starts cold.
    const onDemand = (o: typeof out) => o.searched.find((e) => Object.keys(e.provisioned).length === 0)!.monthlyUSD.total;
    expect(onDemand(out)).toBeGreaterThan(onDemand(plain));
    const human = await offload([...args, '--p95', '1500', '--cold-start', '400+10']);
    expect(human.stdout).toMatch(/^cold starts: 400 ms \+ 10 ms\/MiB of tail weights \(given\); the planner prices cold tails with the same formula$/m);
  });

  it('--reserved adds capped configurations to the search and says which caps it tried', async () => {
    const r = await offload([...args, '--p95', '1200', '--reserved', '2,8']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reserved concurrency sized from the simulated peak and capped at 2, 8/);
    // 3 provisioned values, each sized and capped at 2 and 8 (a cap below the provisioned concurrency is not tried): 3 + 2 + 1.
    expect(r.stderr).toMatch(/search: 6 configurations on the first 1500 requests/);
  });
});
