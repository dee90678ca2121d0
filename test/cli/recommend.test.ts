import { describe, expect, it } from 'vitest';
import { OffloadConfigSchema } from '../../cdk/config';
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
  });

  it('--reserved adds capped configurations to the search and says which caps it tried', async () => {
    const r = await offload([...args, '--p95', '1200', '--reserved', '2,8']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reserved concurrency sized from the simulated peak and capped at 2, 8/);
    // 3 provisioned values, each sized and capped at 2 and 8 (a cap below the provisioned concurrency is not tried): 3 + 2 + 1.
    expect(r.stderr).toMatch(/search: 6 configurations on the first 1500 requests/);
  });
});
