import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { plan } from '../../core/planner';
import { parseScenario } from '../../core/scenario';
import { handScenario } from './hand-scenario';

const doc = readFileSync(new URL('../../docs/planner.md', import.meta.url), 'utf8');

describe('docs/planner.md', () => {
  it('holds the hand scenario as its worked example, and its rows are what the planner prints', () => {
    const block = /## Reproducing a plan by hand[\s\S]*?```json\n([\s\S]*?)```/.exec(doc);
    expect(block).not.toBeNull();
    const scenario = parseScenario(JSON.parse(block![1]!));
    expect(scenario).toEqual(parseScenario(handScenario()));
    const record = plan(scenario);
    // the table in the doc: latency 66.5 / 228.5 / 183.5 / 120
    expect(record.candidates.map((r) => r.latencyMs)).toEqual([66.5, 228.5, 183.5, 120]);
    for (const figure of ['66.5', '228.5', '183.5', '0.1765', '0.243', '2.88e-6', '8.2e-7']) expect(doc).toContain(figure);
  });

  it('documents every reason string and the default function name', () => {
    for (const reason of ['no-function', 'throttled', 'payload', 'max-latency', 'max-energy', 'max-cost']) {
      expect(doc).toContain(`| \`${reason}\` |`);
    }
    expect(doc).toContain('offload-<model>-<cut>'); // what core/planner.ts names a tail by default, as cdk deploy does
  });
});
