import type { ScenarioInput } from '../../core/scenario';

/**
 * A small scenario whose every figure is computed by hand in
 * test/core/cost.test.ts and test/core/planner.test.ts. The numbers are
 * chosen so the arithmetic stays exact:
 *
 * - uplink 8 Mbit/s → upMs = 8·B / 8e6 · 1000 = B / 1000 ms
 * - downlink 16 Mbit/s, outputBytes 1000 → downMs = 8000 / 16e6 · 1000 = 0.5 ms
 * - Pup = (100·8 + 200) / 1000 = 1 W; Pdown = (50·16 + 200) / 1000 = 1 W
 * - cost = 2e-7 + 1e-5 · 2048/1024 · remoteMs/1000 = 2e-7 + 2e-8 · remoteMs
 *
 * layers:   conv1 (40 ms dev, 2 ms cloud, 1 MiB) · conv2 (60, 3, 2 MiB) · fc (20, 1, 1 MiB)
 * headMs:   cut0 0 · cut1 40 · cut2 100 · cut3=L 120
 * tailMs:   cut0 6 · cut1 4 · cut2 1
 * tail MiB: cut0 4 · cut1 3 · cut2 1
 */
export function handScenario(): ScenarioInput & { cloud: { functions: Record<string, object> } } {
  return {
    model: {
      name: 'hand',
      inputBytes: 10_000,
      outputBytes: 1000,
      layers: [
        { name: 'conv1', deviceMs: 40, cloudMs: 2, outputBytes: 4000, weightBytes: 1_048_576 },
        { name: 'conv2', deviceMs: 60, cloudMs: 3, outputBytes: 2000, weightBytes: 2_097_152 },
        { name: 'fc', deviceMs: 20, cloudMs: 1, outputBytes: 1000, weightBytes: 1_048_576 },
      ],
      candidates: [
        { cut: 0, crossingBytes: 10_000 },
        { cut: 1, crossingBytes: 4000 },
        { cut: 2, crossingBytes: 2000 },
      ],
    },
    network: { uplinkMbps: 8, downlinkMbps: 16, rttMs: 50 },
    device: { computeW: 2, idleW: 0.5, radio: { alphaUp: 100, alphaDown: 50, beta: 200 } },
    cloud: {
      memoryMB: 2048,
      coldBaseMs: 100,
      coldMsPerMB: 10,
      requestUSD: 2e-7,
      gbSecondUSD: 1e-5,
      functions: {
        '0': { idleWarm: 1, inFlight: 0, limit: 5 },
        '1': { idleWarm: 0, inFlight: 0, limit: 5 },
        '2': { idleWarm: 0, inFlight: 0, limit: 5, coldStartMs: 30, name: 'hand-fc' },
      },
    },
    encoding: { dtype: 'float32' },
    objective: 'latency',
  };
}
