import { describe, expect, it } from 'vitest';
import { formatSummaryMarkdown, measuredCostUSD, measuredEnergyJ, parseLoadRecord, parseLoadRecords, summarize, summarizeByPolicy, summaryRows, type LoadRecord } from '../../core/load-record';

function record(over: Partial<LoadRecord> & { latencyMs: number; predictedMs?: number | null }): LoadRecord {
  const { latencyMs, predictedMs, ...rest } = over;
  return parseLoadRecord({
    i: 0,
    t: 0,
    startMs: 0,
    device: 'd0',
    class: 'low-end-phone',
    network: 'wifi',
    model: 'm',
    policy: 'planner',
    cut: 1,
    L: 3,
    planCut: 1,
    target: 'cloud',
    cold: false,
    status: 200,
    fallback: null,
    fleet: { idleWarm: 1, inFlight: 0, limit: 4 },
    predicted:
      predictedMs === null
        ? null
        : { headMs: 1, rttMs: 1, upMs: 1, coldMs: 0, tailMs: 1, downMs: 1, latencyMs: predictedMs ?? latencyMs, energyJ: 0.1, costUSD: 1e-6 },
    measured: { planMs: null, headMs: 1, upMs: 1, roundTripMs: 2, initMs: null, computeMs: 1, downMs: 1, deviceTailMs: null, latencyMs, energyJ: 0.2, costUSD: 1e-6 },
    output: 'match',
    error: null,
    ...rest,
  });
}

describe('summarize', () => {
  // 100 requests with latencies 1..100 ms: p50 50.5, p95 95.05, p99 99.01 by linear interpolation.
  const records = Array.from({ length: 100 }, (_, i) => record({ i, latencyMs: i + 1, predictedMs: (i + 1) * 1.1 }));

  it('gives latency percentiles, mean energy and total cost', () => {
    const s = summarize(records);
    expect(s.policy).toBe('planner');
    expect(s.requests).toBe(100);
    expect(s.latencyMs.p50).toBeCloseTo(50.5, 9);
    expect(s.latencyMs.p95).toBeCloseTo(95.05, 9);
    expect(s.latencyMs.p99).toBeCloseTo(99.01, 9);
    expect(s.latencyMs.mean).toBeCloseTo(50.5, 9);
    expect(s.energyJ).toBeCloseTo(0.2, 12);
    expect(s.costUSD).toBeCloseTo(1e-4, 15);
    expect(s.latencyError.median).toBeCloseTo(0.1, 9);
    expect(s.latencyError.warmMedian).toBeCloseTo(0.1, 9);
  });

  it('counts 429s, fallbacks, cold starts, mismatches; errors are left out of the figures', () => {
    const mixed = [
      record({ latencyMs: 100, cold: true, predictedMs: 200 }),
      record({ latencyMs: 300, target: 'device', status: 429, fallback: 'throttled', output: 'simulated' }),
      record({ latencyMs: 400, target: 'device', status: 502, fallback: 'server', output: 'simulated' }),
      record({ latencyMs: 50, output: 'mismatch' }),
      record({ latencyMs: 10, target: 'device', status: null, fallback: null, cut: 3, output: 'simulated', predictedMs: 10 }),
      record({ latencyMs: 1e6, status: 400, error: 'HTTP 400: bad' }),
    ];
    const s = summarize(mixed);
    expect(s.requests).toBe(6);
    expect(s.errors).toBe(1);
    expect(s.latencyMs.p99).toBeLessThan(400.1);
    expect(s.throttled).toBe(1);
    expect(s.rate429).toBeCloseTo(1 / 4, 12); // four were sent to the cloud
    expect(s.fallbacks).toBe(2);
    expect(s.coldStarts).toBe(1);
    expect(s.cloud).toBe(2);
    expect(s.mismatches).toBe(1);
    // Errors of 1.0 (cold, 200 vs 100) and 0 for the rest: the warm median leaves the cold one out.
    expect(s.latencyError.warmMedian).toBe(0);
  });

  it('leaves the plan round trip out of the prediction error (the cost model does not predict it)', () => {
    const r = record({ latencyMs: 300, predictedMs: 200 });
    const asked = { ...r, measured: { ...r.measured, planMs: 100 } };
    expect(summarize([asked]).latencyError.median).toBe(0);
    expect(summarize([r]).latencyError.median).toBeCloseTo(1 / 3, 12);
  });

  it('groups by policy in first-seen order', () => {
    const rs = [record({ latencyMs: 1, policy: 'fleet-blind' }), record({ latencyMs: 2 }), record({ latencyMs: 3, policy: 'fleet-blind' })];
    const ss = summarizeByPolicy(rs);
    expect(ss.map((s) => [s.policy, s.requests])).toEqual([
      ['fleet-blind', 2],
      ['planner', 1],
    ]);
  });

  it('renders rows and a Markdown table with one line per policy', () => {
    const ss = summarizeByPolicy(records);
    expect(summaryRows(ss)[0]!['p95 ms']).toBe(95);
    const md = formatSummaryMarkdown(ss).split('\n');
    expect(md).toHaveLength(3);
    expect(md[0]).toMatch(/^\| policy \| requests \| p50 ms/);
    expect(md[2]).toMatch(/^\| planner \| 100 \| 51 \| 95 \| 99 \|/);
  });

  it('an empty set has no latency figures (NaN, shown as –)', () => {
    const s = summarize([]);
    expect(s.latencyMs.p50).toBeNaN();
    expect(formatSummaryMarkdown([s])).toMatch(/\| \(none\) \| 0 \| – \|/);
  });
});

describe('measured energy and cost', () => {
  const p = { computeW: 2, idleW: 0.5, pUpW: 1, pDownW: 1, requestUSD: 2e-7, usdPerRemoteSecond: 2e-5 };

  it('follow the docs/cost-model.md §3 formulas on measured parts', () => {
    // (2·(40+0) + 1·4 + 0.5·(50+10) + 1·0.5) / 1000
    expect(measuredEnergyJ(p, { headMs: 40, deviceTailMs: 0, rttMs: 50, upMs: 4, cloudWaitMs: 10, downMs: 0.5 })).toBeCloseTo(0.1145, 12);
    expect(measuredCostUSD(p, { initMs: 100, computeMs: 50 })).toBeCloseTo(2e-7 + 2e-5 * 0.15, 15);
    expect(measuredCostUSD(p, null)).toBe(0);
  });
});

describe('parseLoadRecord', () => {
  it('names the bad field', () => {
    expect(() => parseLoadRecord({ ...record({ latencyMs: 1 }), fallback: 'bored' }, 'line 4')).toThrow(/^line 4\.fallback:/);
  });
});

describe('parseLoadRecords', () => {
  it('reads one record per line of a JSONL file, skips blank lines, and names the file and line of a bad one', () => {
    const a = record({ latencyMs: 10 });
    const b = record({ latencyMs: 20, i: 1 });
    const text = `${JSON.stringify(a)}\n\n${JSON.stringify(b)}\n`;
    expect(parseLoadRecords(text, 'run.jsonl').map((r) => r.measured.latencyMs)).toEqual([10, 20]);
    expect(parseLoadRecords('', 'empty.jsonl')).toEqual([]);
    const bad = `${JSON.stringify(a)}\n${JSON.stringify({ ...b, fallback: 'bored' })}\n`;
    expect(() => parseLoadRecords(bad, 'run.jsonl')).toThrow(/^run\.jsonl line 2\.fallback:/);
  });

  it('names the file and line of a line that is not JSON (a cut-off write, say)', () => {
    const text = `${JSON.stringify(record({ latencyMs: 10 }))}\n\n{"i":1,"t":0,"star\n`;
    expect(() => parseLoadRecords(text, 'run.jsonl')).toThrow(/^run\.jsonl line 3: not JSON \(/);
  });
});
