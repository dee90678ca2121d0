import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byRank, cut0Now, readBurstyFiles, replayBursts, replayFiles } from '../../bench/stagger-replay';
import { LOCAL_HOST, sharedCores } from '../../core/sim/host';

// Two cold starts on one core, the second's init beginning 50 ms into the first's (measured: 150 and 200 ms of init,
// 10 ms of compute each; no hand-off back), and a refused request the replay leaves out.
const runs = [
  [
    { endAt: 160, computeMs: 10, cold: true, initMs: 150, status: 200 },
    { endAt: 260, computeMs: 10, cold: true, initMs: 200, status: 200 },
    { endAt: 70, computeMs: Number.NaN, cold: false, initMs: null, status: 429 },
  ],
];

describe('bench/stagger-replay: a burst of cold starts on the model', () => {
  it('replays the stack\'s start times through processor sharing and ranks the cold starts in their burst', () => {
    // Lone init 100, compute 10. The first alone to 50, then both at 1/2: the first's init ends at 150; its compute and
    // the second's init share to 170; the second alone from 170 with 40 left: its init 50–210, its compute 210–220.
    const xs = replayBursts(runs, 0, sharedCores(1), 10, 100);
    expect(xs.map((x) => [x.burst, x.rank])).toEqual([[0, 0], [0, 1]]);
    expect(xs[0]!.modelInitMs).toBeCloseTo(150, 9);
    expect(xs[0]!.modelFirstMs).toBeCloseTo(20, 9);
    expect(xs[1]!.modelInitMs).toBeCloseTo(160, 9);
    expect(xs[1]!.modelFirstMs).toBeCloseTo(10, 9);
    expect(byRank(xs).map((r) => [r.rank, r.n, r.init])).toEqual([[0, 1, 1], [1, 1, 1.25]]);
  });

  it('initBurstScale stretches the inits that overlap: 1 + 2 × (2 − 1) = 3 while both initialise', () => {
    // The first alone to 50, then at 1/3 to 200; its compute (1/2) beside the second's init (1/3) to 220; the second
    // has 50 + 20/3 done and ends alone at 220 + 43.33.
    const xs = replayBursts(runs, 0, { ...sharedCores(1), initBurstScale: 2 }, 10, 100);
    expect(xs[0]!.modelInitMs).toBeCloseTo(200, 9);
    expect(xs[1]!.modelInitMs).toBeCloseTo(220 + (100 - 50 - 20 / 3) - 50, 9);
  });

  it('pools files, each replayed on its own tail: the lone figures and first-inference factor it carries (1.61 when it has none)', () => {
    const older = { backMs: 0, loneComputeMs: 10, coldStartMs: 100, runs };
    const newer = { backMs: 0, loneComputeMs: 8, coldStartMs: 80, firstInferenceFactor: 1.5, runs };
    const pooled = replayFiles([older, newer], 1.1);
    expect(pooled).toEqual([...replayFiles([older], 1.1), ...replayFiles([newer], 1.1)]);
    // a shorter lone cold start gives shorter modelled inits
    expect(pooled[2]!.modelInitMs).toBeLessThan(pooled[0]!.modelInitMs);
    expect(replayFiles([older], 1.1)).toEqual(replayFiles([{ ...older, firstInferenceFactor: 1.61 }], 1.1));
    expect(replayFiles([older], 1.1)).not.toEqual(replayFiles([{ ...older, firstInferenceFactor: 1.2 }], 1.1));
  });

  it('a file named with @now is replayed on the host\'s cut-0 figures of now, the others on their own', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'stagger-')), 'bursty.json');
    // as read back from JSON (a refused request's NaN compute is written as null)
    const then = JSON.parse(JSON.stringify({ backMs: 3, loneComputeMs: 26.9, coldStartMs: 321, firstInferenceFactor: 1.58, runs })) as { runs: unknown };
    writeFileSync(file, JSON.stringify(then));
    const host = { ...LOCAL_HOST, coldStartMs: { mobilenetv2: { 0: 250 } }, warmComputeMs: { mobilenetv2: { 0: 20 } }, firstInference: { factor: 1.3, weight: 1, factorByCut: { mobilenetv2: { 0: 1.7 } } } };
    const [own, now] = readBurstyFiles([file, `${file}@now`], host);
    expect(own).toEqual(then);
    expect(now).toEqual({ ...then, coldStartMs: 250, loneComputeMs: 20, firstInferenceFactor: 1.7 });
    expect(cut0Now(LOCAL_HOST).coldStartMs).toBe(LOCAL_HOST.coldStartMs.mobilenetv2![0]);
    expect(() => cut0Now({ ...host, warmComputeMs: {} })).toThrow(/no cut-0 MobileNetV2/);
  });
});
