/**
 * The whole zoo with its default cuts in one deployment: every stack stays
 * under CloudFormation's 500-resource limit, by design (one nested stack per
 * model). The manifests come from the real graph analysis of each zoo model;
 * the tail files are small stand-ins (weights are not what is measured here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectDefaultCuts } from '../../cdk/cuts';
import type { Manifest } from '../../core/manifest';
import { iamMatch, nagErrors, resourcesOf, synth, tempDir, writeFixtureExport, type Synthesized, removeTempDirs } from './helpers';

const ZOO_MODELS = ['alexnet', 'vgg16', 'resnet50', 'mobilenetv2', 'googlenet'] as const;
const CFN_RESOURCE_LIMIT = 500;

let s: Synthesized;
const manifests = new Map<string, Manifest>();

beforeAll(async () => {
  const [{ ZOO }, { analyzeModel }, { initBackend }] = await Promise.all([
    import('../../models/zoo/index'),
    import('../../models/graph'),
    import('../../models/backend'),
  ]);
  await initBackend();
  const exportDir = tempDir('zoo');
  for (const name of ZOO_MODELS) {
    const model = ZOO[name].build();
    manifests.set(name, writeFixtureExport(exportDir, analyzeModel(model, { name })));
    model.dispose();
  }
  // Every zoo model, each with the cuts of the default rule (one line of configuration per model).
  s = synth({ exportDir, overrides: JSON.stringify({ models: Object.fromEntries(ZOO_MODELS.map((m) => [m, { cuts: 'default' }])) }) });
});

describe('all zoo models, default cuts', () => {
  it('deploys every model with the cuts of the default rule', () => {
    expect(s.deployment.models.map((m) => m.model).sort()).toEqual([...ZOO_MODELS].sort());
    for (const m of s.deployment.models) {
      expect(m.tails.map((t) => t.cut)).toEqual(selectDefaultCuts(manifests.get(m.model)!).cuts);
    }
  });

  it('keeps the root stack and every nested stack under 500 resources', () => {
    const counts: Record<string, number> = { root: Object.keys(s.root.toJSON().Resources).length };
    for (const [id, t] of s.nested) counts[id] = Object.keys(t.toJSON().Resources).length;
    for (const [id, n] of Object.entries(counts)) expect(n, id).toBeLessThan(CFN_RESOURCE_LIMIT);
    // One nested stack per model (none of the zoo models has more tails than tailsPerStack).
    expect(Object.keys(counts).length).toBe(ZOO_MODELS.length + 1);
    const tails = s.deployment.models.reduce((n, m) => n + m.tails.length, 0);
    expect(tails).toBeGreaterThan(ZOO_MODELS.length); // more than the cloud-only cuts
    console.log(`zoo deployment: ${tails} tail functions; resources per stack ${JSON.stringify(counts)}`);
  });

  it('passes cdk-nag', () => {
    expect(nagErrors(s.stack)).toEqual([]);
  });

  it('keeps the planner role\'s inline policy under half of IAM\'s 10,240 characters, with prewarm (on by default) covering every tail', () => {
    const role = Object.values(resourcesOf(s.root, 'AWS::IAM::Role')).find((r) => r.Properties['Description'] === 'Execution role of offload-planner')!;
    // Rendered as IAM stores it: intrinsics resolved for us-east-1 and a 12-digit account, no whitespace.
    const render = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(render);
      if (!v || typeof v !== 'object') return v;
      const o = v as Record<string, unknown>;
      if ('Fn::Join' in o) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map(render).join(sep);
      }
      if ('Ref' in o) return { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012' }[o['Ref'] as string] ?? 'offload-modelstorebucket0123456789-abcdefghijkl';
      if ('Fn::GetAtt' in o) return 'arn:aws:dynamodb:us-east-1:123456789012:table/offload-RegistryTable0123456789-ABCDEFGHIJKL';
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, render(x)]));
    };
    const statements = JSON.stringify(render(role.Properties['Policies']));
    expect(statements).toContain('lambda:InvokeFunction');
    console.log(`planner role policy: ${statements.length} characters for ${s.deployment.models.reduce((n, m) => n + m.tails.length, 0)} tails`);
    // 79 tails named one by one took 8,875 characters (2026-11-30); by name pattern (tailNamePatterns)
    // a model costs a few patterns whatever its number of cuts, so the zoo stays far from the limit
    expect(statements.length).toBeLessThan(10_240 / 2);
    // and the prewarm permission still covers every tail
    const prewarm = (render(role.Properties['Policies']) as { PolicyDocument: { Statement: { Sid?: string; Resource: string[] }[] } }[])
      .flatMap((p) => p.PolicyDocument.Statement)
      .find((st) => st.Sid === 'PrewarmTails')!;
    const patterns = prewarm.Resource.map((arn) => arn.replace(/^arn:aws:lambda:us-east-1:123456789012:function:/, ''));
    for (const m of s.deployment.models) for (const t of m.tails) expect(patterns.some((p) => iamMatch(p, t.functionName)), t.functionName).toBe(true);
    expect(patterns.length).toBeLessThan(s.deployment.models.length * 4);
  });
});

afterAll(removeTempDirs);
