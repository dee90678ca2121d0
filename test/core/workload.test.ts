import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors';
import { seededRandom } from '../../core/random';
import { ARRIVAL_PROCESSES, formatTrace, generateWorkload, makeDevices, parseTrace, type Arrival } from '../../core/workload';

const devices = makeDevices(6, [
  { class: 'low-end-phone', network: 'wifi', weight: 2 },
  { class: 'flagship-phone', network: '4g', weight: 1 },
]);
const bounds = { durationMs: 60_000, maxRequests: 10_000 };

describe('makeDevices', () => {
  it('splits the devices over the mix in proportion to the weights', () => {
    // Prepare / Act: done above. Assess:
    expect(devices.map((d) => d.id)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
    expect(devices.filter((d) => d.class === 'low-end-phone' && d.network === 'wifi')).toHaveLength(4);
    expect(devices.filter((d) => d.class === 'flagship-phone' && d.network === '4g')).toHaveLength(2);
  });

  it('names an unknown class or network and a bad count', () => {
    expect(() => makeDevices(2, [{ class: 'toaster', network: 'wifi' }])).toThrow(/mix\[0\]\.class: unknown device class "toaster"/);
    expect(() => makeDevices(2, [{ class: 'this-machine', network: '5g' }])).toThrow(/mix\[0\]\.network: unknown network "5g"/);
    expect(() => makeDevices(0, [{ class: 'this-machine', network: 'wifi' }])).toThrow(ValidationError);
  });
});

describe('arrival processes', () => {
  it('steady: Poisson at the rate (mean gap within 10% over 2,000 draws), ascending, within the bounds', () => {
    const times = ARRIVAL_PROCESSES.steady({ kind: 'steady', ratePerS: 5 }, seededRandom(3), { durationMs: 1e9, maxRequests: 2000 });
    expect(times).toHaveLength(2000);
    const meanGap = times[times.length - 1]! / times.length;
    expect(meanGap).toBeGreaterThan(180);
    expect(meanGap).toBeLessThan(220);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
  });

  it('bursty: arrivals only inside the on windows, at the burst rate there', () => {
    const p = { kind: 'bursty' as const, ratePerS: 20, onMs: 1000, offMs: 4000 };
    const times = ARRIVAL_PROCESSES.bursty(p, seededRandom(5), bounds);
    expect(times.every((t) => t % 5000 < 1000)).toBe(true);
    // 12 bursts of 1 s at 20/s: about 240 arrivals.
    expect(times.length).toBeGreaterThan(180);
    expect(times.length).toBeLessThan(300);
  });

  it('sparse: every gap is at least the minimum gap', () => {
    const times = ARRIVAL_PROCESSES.sparse({ kind: 'sparse', minGapMs: 3000, meanExtraMs: 500 }, seededRandom(1), bounds);
    expect(times[0]).toBe(0);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(3000);
    expect(times.length).toBeGreaterThan(10);
    expect(times.at(-1)!).toBeLessThan(bounds.durationMs);
  });

  it('respects maxRequests and durationMs', () => {
    expect(ARRIVAL_PROCESSES.steady({ kind: 'steady', ratePerS: 100 }, seededRandom(1), { durationMs: 1e9, maxRequests: 7 })).toHaveLength(7);
    const short = ARRIVAL_PROCESSES.steady({ kind: 'steady', ratePerS: 100 }, seededRandom(1), { durationMs: 500, maxRequests: 1e6 });
    expect(short.every((t) => t < 500)).toBe(true);
  });
});

describe('generateWorkload', () => {
  const spec = { process: { kind: 'steady' as const, ratePerS: 2 }, devices, model: 'resnet50', seed: 11, durationMs: 30_000, maxRequests: 100 };

  it('is reproducible from the seed, and the device of each arrival is one of the devices', () => {
    const a = generateWorkload(spec);
    expect(generateWorkload(spec)).toEqual(a);
    expect(generateWorkload({ ...spec, seed: 12 })).not.toEqual(a);
    for (const x of a) expect(devices).toContainEqual({ id: x.device, class: x.class, network: x.network });
    expect(new Set(a.map((x) => x.device)).size).toBeGreaterThan(3);
  });

  it('changing the device mix does not move the arrival times', () => {
    const other = makeDevices(2, [{ class: 'this-machine', network: '3g' }]);
    expect(generateWorkload({ ...spec, devices: other }).map((x) => x.t)).toEqual(generateWorkload(spec).map((x) => x.t));
  });

  it('a rate <= 0 names the field', () => {
    expect(() => generateWorkload({ ...spec, process: { kind: 'steady', ratePerS: 0 } })).toThrow(/process\.ratePerS: must be > 0/);
  });

  it('replays a trace within the bounds', () => {
    const arrivals: Arrival[] = [0, 100, 200, 300].map((t) => ({ t, device: 'x', class: 'this-machine', network: 'wifi', model: 'm' }));
    expect(generateWorkload({ ...spec, process: { kind: 'trace', arrivals }, durationMs: 250, maxRequests: 10 })).toEqual(arrivals.slice(0, 3));
    expect(generateWorkload({ ...spec, process: { kind: 'trace', arrivals }, maxRequests: 2 })).toEqual(arrivals.slice(0, 2));
  });
});

describe('trace files', () => {
  it('round-trips through formatTrace / parseTrace, skipping blank and # lines', () => {
    const a = generateWorkload({ process: { kind: 'bursty', ratePerS: 10, onMs: 500, offMs: 500 }, devices, model: 'mobilenetv2', seed: 2, durationMs: 5000, maxRequests: 50 });
    expect(a.length).toBeGreaterThan(5);
    expect(parseTrace(`# a comment\n\n${formatTrace(a)}`)).toEqual(a);
  });

  it('names the line and the field of a bad arrival', () => {
    const good = '{"t":0,"device":"d0","class":"flagship-phone","network":"4g","model":"m"}';
    expect(() => parseTrace(`${good}\n{"t":-1,"device":"d0","class":"flagship-phone","network":"4g","model":"m"}`)).toThrow(/^trace line 2: t: must be >= 0$/);
    expect(() => parseTrace(`${good}\n\n{"t":5,"device":"d0","class":"flagship-phone","network":"6g","model":"m"}`, 'x.jsonl')).toThrow(
      /^x\.jsonl line 3: network: unknown network "6g"/,
    );
    expect(() => parseTrace(`{"t":5,"device":"d0","class":"toaster","network":"4g","model":"m"}`)).toThrow(/^trace line 1: class: unknown device class "toaster"/);
    expect(() => parseTrace(`{"t":5,"device":"d0","class":"flagship-phone","network":"4g"}`)).toThrow(/^trace line 1: model: required$/);
    expect(() => parseTrace(`{"t":5,"device":"d0","class":"flagship-phone","network":"4g","model":"m","x":1}`)).toThrow(/^trace line 1: .*"x"/);
    expect(() => parseTrace('{"t":5,')).toThrow(/^trace line 1: not valid JSON/);
    expect(() => parseTrace('[1]')).toThrow(/^trace line 1: must be a JSON object/);
  });

  it('requires t to be non-decreasing', () => {
    const line = (t: number) => `{"t":${t},"device":"d0","class":"flagship-phone","network":"4g","model":"m"}`;
    expect(parseTrace([line(0), line(0), line(5)].join('\n'))).toHaveLength(3);
    expect(() => parseTrace([line(10), line(5)].join('\n'))).toThrow(/^trace line 2: t: must be >= 10 \(the previous arrival's t\)$/);
  });
});

describe('this-machine', () => {
  it('is a device class a workload may name, and its plan body carries the profile’s own layer times', async () => {
    const { thisMachineDevice, THIS_MACHINE_POWER } = await import('../../core/this-machine');
    expect(makeDevices(1, [{ class: 'this-machine', network: 'wifi' }])[0]!.class).toBe('this-machine');
    const body = thisMachineDevice({ layers: [{ ms: 1.5 }, { ms: 2 }] as never });
    expect(body).toEqual({ computeW: THIS_MACHINE_POWER.computeW, idleW: THIS_MACHINE_POWER.idleW, deviceMs: [1.5, 2] });
  });
});
