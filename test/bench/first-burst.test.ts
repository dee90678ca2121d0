import { describe, expect, it } from 'vitest';
import { BURST, byCutOrder, byCutTable, firstBurstTable, parseBurst, parseTimelineLine, simulatedBurst, type ColdSample } from '../../bench/first-burst';
import { LOCAL_HOST } from '../../core/sim/host';

const sample = (over: Partial<ColdSample>): ColdSample => ({
  stack: 0,
  burst: 1,
  cut: 63,
  k: 4,
  firstOnFunction: false,
  cold: true,
  initMs: 900,
  roundTripMs: 1000,
  computeMs: 20,
  sentAt: 1_000_000,
  timeline: null,
  ...over,
});

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('first-burst: the bursts it sends', () => {
  it('reads CUT, CUTxK and pCUTxK, and refuses anything else with a line naming the option', () => {
    expect(parseBurst('63')).toEqual({ cut: 63, k: BURST });
    expect(parseBurst('0x2')).toEqual({ cut: 0, k: 2 });
    expect(parseBurst('p63x3')).toEqual({ cut: 63, k: 3, plan: true });
    for (const bad of ['x', '63x0', '-1', '63x']) expect(() => parseBurst(bad)).toThrow(/^--orders: /);
  });

  it('--by-cut: every size on every cut each round, the cuts rotated so no cut always goes first', () => {
    const order = byCutOrder([0, 63, 156], [2, 4], 2);
    expect(order.map((b) => `${b.cut}x${b.k}`)).toEqual(['0x2', '63x2', '156x2', '0x4', '63x4', '156x4', '63x2', '156x2', '0x2', '63x4', '156x4', '0x4']);
  });
});

describe("first-burst: the tail's timeline from the stack's log", () => {
  it('takes the JSON after the function prefix of a cold start timeline line, and nothing else', () => {
    const line = '[offload-tail-mobilenetv2-63 1a2b3c4d] {"level":"INFO","message":"cold start timeline","instance":"1a2b","processStart":1700000000000.5,"moduleLoaded":260.1}';
    expect(parseTimelineLine(line)).toMatchObject({ instance: '1a2b', processStart: 1700000000000.5, moduleLoaded: 260.1 });
    expect(parseTimelineLine('[offload-tail-mobilenetv2-63 1a2b3c4d] {"message":"tail ready"}')).toBeUndefined();
    expect(parseTimelineLine('[x y] cold start timeline {not json')).toBeUndefined();
    expect(parseTimelineLine('[x y] {"message":"cold start timeline","instance":"a"}')).toBeUndefined(); // no process start
  });
});

describe("first-burst: the simulator's inits of a burst", () => {
  it("a lone cold start is the host's lone cold start less the first inference's extra; k together each take longer, more with k", () => {
    const lone = simulatedBurst({ cut: 63, k: 1 });
    const extra = (LOCAL_HOST.firstInference!.factorByCut!.mobilenetv2![63]! - 1) * LOCAL_HOST.warmComputeMs!.mobilenetv2![63]!;
    expect(lone).toHaveLength(1);
    expect(lone[0]).toBeCloseTo(LOCAL_HOST.coldStartMs.mobilenetv2![63]! - extra, 6);
    const two = simulatedBurst({ cut: 63, k: 2 });
    const four = simulatedBurst({ cut: 63, k: 4 });
    expect(two).toHaveLength(2);
    expect(four).toHaveLength(4);
    expect(Math.min(...two)).toBeGreaterThan(lone[0]!);
    expect(Math.min(...four)).toBeGreaterThan(Math.max(...two));
  });

  it('the table puts each (cut, k, plan) group beside its own simulation and takes the median of its cold inits only', () => {
    const rows = byCutTable([
      sample({ initMs: 800 }),
      sample({ initMs: 1000 }),
      sample({ initMs: 5000, cold: false }),
      sample({ initMs: 600, plan: true }),
      sample({ initMs: 300, k: 1, cut: 156 }),
    ]);
    expect(rows.map((r) => [r.cut, r.k, r.plan, r.n, r.initMs])).toEqual([
      [156, 1, false, 1, 300],
      [63, 4, false, 2, 900],
      [63, 4, true, 1, 600],
    ]);
    expect(rows[1]!.simMs).toBe(median(simulatedBurst({ cut: 63, k: 4 })));
    expect(rows[1]!.ratio).toBeCloseTo(900 / rows[1]!.simMs, 12);
  });
});

describe('first-burst: first bursts against later ones', () => {
  it('splits the cold samples into first on the stack, first on its function and later, with the steps between timeline marks', () => {
    const t = (processStart: number, moduleLoaded: number, built: number) => ({ processStart, nodeReady: 35, moduleLoaded, built });
    const table = firstBurstTable([
      sample({ burst: 0, firstOnFunction: true, initMs: 1000, timeline: t(1_000_030, 300, 990) }),
      sample({ burst: 2, firstOnFunction: true, initMs: 950, timeline: t(1_000_020, 280, 940) }),
      sample({ burst: 3, initMs: 900, timeline: t(1_000_020, 270, 880) }),
      sample({ burst: 4, initMs: 700, timeline: t(1_000_020, 250, 690) }),
    ]);
    expect(table.map((r) => [r.kind, r.n, r.initMs])).toEqual([
      ['first on the stack', 1, 1000],
      ['first on its function', 1, 950],
      ['later', 2, 800],
    ]);
    expect(table[0]!.steps['send → process start']).toBe(30);
    expect(table[2]!.steps['process start → nodeReady']).toBe(35);
    expect(table[2]!.steps['nodeReady → moduleLoaded']).toBe((270 - 35 + 250 - 35) / 2);
    // a step whose earlier mark is missing is left out, not read from an older mark
    expect(table[2]!.steps['moduleLoaded → registryMarked']).toBeUndefined();
    expect(table[2]!.steps['weights → built']).toBeUndefined();
  });
});
