/**
 * fast-check generators of random scenarios for the planner's property tests:
 * chains (every cut a candidate) and DAG-like sparse candidate sets, fleets
 * with warm, cold, throttled and missing functions, every dtype, staging and
 * base64 on and off, constraints that bind or not, batteries.
 *
 * A "degenerate" flavour draws from a few small values (0, 0.5, 1, 2 …) so
 * that exact ties between cuts are frequent and the tie rule is exercised.
 */
import fc from 'fast-check';
import type { ScenarioInput } from '../../core/scenario';

/**
 * Reals in [min, max]: mostly uniform (fc.double alone is uniform over the
 * representable doubles, i.e. mostly tiny values), sometimes fc.double's
 * extremes (0, subnormals, max).
 */
const real = (min: number, max: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 1 << 30 }).map((i) => min + ((max - min) * i) / (1 << 30)) },
    { weight: 1, arbitrary: fc.double({ min, max, noNaN: true, noDefaultInfinity: true }) },
  );
const small = fc.constantFrom(0, 0.5, 1, 2);

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export interface ArbitraryOptions {
  maxLayers?: number;
  /** Include constraints (each null or a fraction of a scale). */
  constraints?: boolean;
  /** Include a battery level (then maxEnergyJ is null). */
  battery?: boolean;
}

const fleetEntry = (degenerate: boolean) =>
  fc.record({
    idleWarm: fc.nat(3),
    inFlight: fc.nat(6),
    limit: fc.nat(10),
    coldStartMs: fc.option(degenerate ? small : real(0, 5000), { nil: undefined, freq: 3 }),
    name: fc.option(fc.constantFrom('tail-a', 'tail-b'), { nil: undefined, freq: 2 }),
  });

/** Random docs/cost-model.md §7 scenario inputs (valid by construction). */
export function scenarioArbitrary(opts: ArbitraryOptions = {}): fc.Arbitrary<ScenarioInput> {
  const maxLayers = opts.maxLayers ?? 30;
  return fc
    .record({ L: fc.integer({ min: 1, max: maxLayers }), degenerate: fc.boolean(), sparse: fc.boolean() })
    .chain(({ L, degenerate, sparse }) => {
      const layer = fc.record({
        deviceMs: degenerate ? small : real(0, 50),
        cloudMs: degenerate ? small : real(0, 10),
        outputBytes: fc.nat(1_000_000),
        weightBytes: degenerate ? fc.constantFrom(0, 1_048_576) : fc.oneof(fc.nat(1_000_000), fc.nat(50_000_000)),
      });
      // Mostly crossings a phone can send in ~100 ms, sometimes ones above the payload limit.
      const bytes = degenerate ? fc.constantFrom(0, 1000, 2000) : fc.oneof({ weight: 4, arbitrary: fc.nat(100_000) }, { weight: 1, arbitrary: fc.nat(30_000_000) });
      const fraction = fc.option(real(0, 1.5), { nil: null, freq: 2 });
      return fc.record({
        L: fc.constant(L),
        layers: fc.array(layer, { minLength: L, maxLength: L }),
        cuts: sparse ? fc.subarray(range(L)) : fc.constant(range(L)),
        crossings: fc.array(bytes, { minLength: L, maxLength: L }),
        fleet: fc.array(fc.option(fleetEntry(degenerate), { nil: undefined, freq: 4 }), { minLength: L, maxLength: L }),
        inputBytes: bytes,
        outputBytes: degenerate ? fc.constantFrom(0, 1000) : fc.nat(100_000),
        uplinkMbps: degenerate ? fc.constantFrom(1, 8) : real(0.05, 100),
        downlinkMbps: degenerate ? fc.constantFrom(1, 16) : real(0.05, 200),
        rttMs: degenerate ? fc.constantFrom(0, 10) : real(0, 300),
        computeW: degenerate ? small : real(0, 10),
        idleW: degenerate ? small : real(0, 2),
        radio: fc.record({ alphaUp: real(0, 1000), alphaDown: real(0, 200), beta: real(0, 1500) }),
        memoryMB: degenerate ? fc.constantFrom(1024, 2048) : fc.integer({ min: 128, max: 10_240 }),
        coldBaseMs: degenerate ? small : real(0, 1000),
        coldMsPerMB: degenerate ? small : real(0, 20),
        requestUSD: degenerate ? fc.constantFrom(0, 2e-7) : real(0, 1e-6),
        gbSecondUSD: degenerate ? fc.constantFrom(0, 1e-5) : real(0, 1e-4),
        dtype: fc.constantFrom('float32', 'float16', 'int8') as fc.Arbitrary<'float32' | 'float16' | 'int8'>,
        limits: fc.option(
          fc.record({ payloadBytes: fc.integer({ min: 1, max: 20_000_000 }), base64: fc.boolean(), staging: fc.boolean() }),
          { nil: undefined },
        ),
        fractions: fc.record({ latency: fraction, energy: fraction, cost: fraction }),
        objective: fc.constantFrom('latency', 'energy', 'cost') as fc.Arbitrary<'latency' | 'energy' | 'cost'>,
        battery: opts.battery ? fc.option(real(0, 1), { nil: undefined }) : fc.constant(undefined),
      });
    })
    .map((g) => {
      const functions: Record<string, NonNullable<(typeof g.fleet)[number]>> = {};
      for (const cut of g.cuts) {
        const entry = g.fleet[cut];
        if (entry) functions[String(cut)] = entry;
      }
      // Constraint scales from the inputs only (never from the code under test).
      const deviceOnlyMs = g.layers.reduce((a, l) => a + l.deviceMs, 0);
      const cloudTotalMs = g.layers.reduce((a, l) => a + l.cloudMs, 0);
      const latencyScale = deviceOnlyMs + g.rttMs + 100;
      const energyScale = (g.computeW * deviceOnlyMs) / 1000 + 0.01;
      const costScale = g.requestUSD + (g.gbSecondUSD * g.memoryMB * (cloudTotalMs + 1000)) / 1024 / 1000;
      const scaled = (f: number | null, scale: number) => (f === null ? null : f * scale);
      const scenario: ScenarioInput = {
        model: {
          name: 'rand',
          inputBytes: g.inputBytes,
          outputBytes: g.outputBytes,
          layers: g.layers.map((l, i) => ({ name: `l${i}`, ...l })),
          candidates: g.cuts.map((cut) => ({ cut, crossingBytes: g.crossings[cut]! })),
        },
        network: { uplinkMbps: g.uplinkMbps, downlinkMbps: g.downlinkMbps, rttMs: g.rttMs },
        device: { computeW: g.computeW, idleW: g.idleW, radio: g.radio },
        cloud: {
          memoryMB: g.memoryMB,
          coldBaseMs: g.coldBaseMs,
          coldMsPerMB: g.coldMsPerMB,
          requestUSD: g.requestUSD,
          gbSecondUSD: g.gbSecondUSD,
          functions,
        },
        encoding: { dtype: g.dtype },
        objective: g.objective,
      };
      if (g.limits) scenario.limits = g.limits;
      if (opts.constraints) {
        scenario.constraints = {
          maxLatencyMs: scaled(g.fractions.latency, latencyScale),
          maxEnergyJ: g.battery === undefined ? scaled(g.fractions.energy, energyScale) : null,
          maxCostUSD: scaled(g.fractions.cost, costScale),
        };
      }
      if (g.battery !== undefined) scenario.battery = { level: g.battery };
      return scenario;
    });
}
