/**
 * Measures the network between a page and the API, for a measured `network`
 * in `POST /plan`: RTT from small rejected plan requests (the planner answers
 * 400 at once, no model work), uplink from a larger rejected one, downlink
 * from an artifact file of known size.
 */
import type { OffloadApi } from '../api';
import type { ArtifactFile } from '../../core/api';

export interface MeasuredNetwork {
  uplinkMbps: number;
  downlinkMbps: number;
  rttMs: number;
}

const UPLOAD_BYTES = 256 * 1024;
/** Loopback and LAN links measure faster than any radio; the planner needs finite, positive figures. */
const MAX_MBPS = 10_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function timeRejectedPlan(api: OffloadApi, body: string): Promise<number> {
  const t0 = performance.now();
  await api.rawPost('/plan', body);
  return performance.now() - t0;
}

/**
 * @param probe a file GET /models listed (with its presigned URL) to time a download; without one the downlink is taken equal to the uplink
 */
export async function measureNetwork(api: OffloadApi, probe?: ArtifactFile): Promise<MeasuredNetwork> {
  const rtts: number[] = [];
  for (let i = 0; i < 3; i++) rtts.push(await timeRejectedPlan(api, '{}'));
  const rttMs = median(rtts);
  const upMs = await timeRejectedPlan(api, JSON.stringify({ padding: 'x'.repeat(UPLOAD_BYTES) }));
  const uplinkMbps = Math.min(MAX_MBPS, (UPLOAD_BYTES * 8) / 1e6 / (Math.max(upMs - rttMs, 0.5) / 1000));
  let downlinkMbps = uplinkMbps;
  if (probe?.url) {
    const t0 = performance.now();
    // no-store: the page fetched this file when it loaded the model; a cached copy would time nothing
    const res = await fetch(probe.url, { cache: 'no-store' } as RequestInit);
    const n = (await res.arrayBuffer()).byteLength;
    const ms = performance.now() - t0;
    downlinkMbps = Math.min(MAX_MBPS, (n * 8) / 1e6 / (Math.max(ms - rttMs, 0.5) / 1000));
  }
  return { uplinkMbps: round(uplinkMbps), downlinkMbps: round(downlinkMbps), rttMs: round(rttMs) };
}

function round(x: number): number {
  return Math.max(0.01, Math.round(x * 100) / 100);
}
