import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPOSED_HEADERS, INFER_HEADERS, inferHeaders, parseInferHeaders, parsePlanRequest, PlanResponseSchema } from '../../core/api';
import { plan } from '../../core/planner';
import { parseScenario } from '../../core/scenario';
import { handScenario } from './hand-scenario';

const ROOT = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|mjs|js)$/.test(name) ? [p] : [];
  });
}

describe('the API contract (core/api.ts)', () => {
  it('describes what the planner produces: a plan record plus route and fleet parses', () => {
    // Prepare
    const record = plan(parseScenario(handScenario()));
    // Act
    const parsed = PlanResponseSchema.safeParse({ ...record, route: null, fleet: {}, fleetSource: 'none' });
    // Assess
    expect(parsed.success, parsed.error?.message).toBe(true);
    expect(PlanResponseSchema.safeParse({ ...record, route: null, fleet: {} }).success).toBe(false);
  });

  it('round-trips the timing headers a tail sends', () => {
    const cold = inferHeaders({ cold: true, initMs: 812.4, computeMs: 31.234, instance: 'a1', functionName: 'offload-m-3', memoryMB: 3008 });
    expect(cold).toEqual({
      'x-offload-cold': 'true',
      'x-offload-init-ms': '812',
      'x-offload-compute-ms': '31.23',
      'x-offload-instance': 'a1',
      'x-offload-function': 'offload-m-3',
      'x-offload-memory-mb': '3008',
    });
    expect(parseInferHeaders((n) => cold[n])).toEqual({ cold: true, initMs: 812, computeMs: 31.23, instance: 'a1', functionName: 'offload-m-3', memoryMB: 3008 });
    const warm = inferHeaders({ cold: false, initMs: null, computeMs: 2, instance: 'a1' });
    expect(parseInferHeaders((n) => warm[n])).toEqual({ cold: false, initMs: null, computeMs: 2, instance: 'a1', functionName: null, memoryMB: null });
  });

  it('names a malformed timing header instead of reading it as a number or as warm', () => {
    expect(() => parseInferHeaders((n) => (n === INFER_HEADERS.initMs ? '-3' : null))).toThrow(/x-offload-init-ms: must be a non-negative number/);
    expect(() => parseInferHeaders((n) => (n === INFER_HEADERS.cold ? 'yes' : null))).toThrow(/x-offload-cold: must be true or false/);
    expect(() => parseInferHeaders((n) => (n === INFER_HEADERS.memoryMB ? '1769.5' : null))).toThrow(/x-offload-memory-mb: must be a whole number of MB/);
    expect(parseInferHeaders(() => null)).toEqual({ cold: false, initMs: null, computeMs: null, instance: null, functionName: null, memoryMB: null });
  });

  it('exposes every x-offload header to browsers', () => {
    expect([...EXPOSED_HEADERS].sort()).toEqual(Object.values(INFER_HEADERS).sort());
  });

  it('rejects a plan request with its field path', () => {
    expect(() => parsePlanRequest({ model: 'm', device: 'flagship-phone', network: { uplinkMbps: 0, downlinkMbps: 1, rttMs: 1 } })).toThrow(/network/);
    expect(parsePlanRequest({ model: 'm', device: 'flagship-phone', network: '4g' })).toMatchObject({ objective: 'latency', dtype: 'float32' });
  });

  it('is the only place shipped code spells an x-offload- header name', () => {
    const shipped = ['core', 'functions', 'client', 'local', 'cli', 'cdk', 'models'].flatMap((d) => sourceFiles(join(ROOT, d)));
    const copies = shipped
      .filter((f) => relative(ROOT, f) !== join('core', 'tail-api.ts')) // INFER_HEADERS' home (re-exported by core/api.ts)
      .filter((f) => /['"]x-offload-/i.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(copies).toEqual([]);
  });
});
