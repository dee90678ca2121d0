/**
 * `planner.prewarm` in the CDK app: on by default, the planner may invoke
 * exactly the deployed tail functions, gets PREWARM_TAILS and
 * PREWARM_MIN_GAIN, and a tail does not retry a prewarm event; off
 * (`enabled: false`), no permission, PREWARM_TAILS=false (the function's own
 * default is on), no async-invoke config. Offline synthesis of real tinychain/tinydag exports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../cdk/config';
import { EXACT_TAIL_NAMES, tailNamePatterns } from '../../cdk/constructs/planner';
import { defaultFunctionName } from '../../core/planner';
import { exportZoo, iamMatch, nagErrors, removeTempDirs, resourcesOf, synth, tempDir, PROJECT_ROOT, type Synthesized } from './helpers';

let exportDir: string;
let off: Synthesized;
let on: Synthesized;

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };
const plannerStatements = (t: Synthesized): Statement[] => {
  const role = Object.values(resourcesOf(t.root, 'AWS::IAM::Role')).find((r) => r.Properties['Description'] === 'Execution role of offload-planner')!;
  return (role.Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[])[0]!.PolicyDocument.Statement;
};
const plannerEnv = (t: Synthesized): Record<string, unknown> => {
  const fn = Object.values(resourcesOf(t.root, 'AWS::Lambda::Function')).find((f) => f.Properties['FunctionName'] === 'offload-planner')!;
  return (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
};

beforeAll(async () => {
  exportDir = tempDir('export');
  await exportZoo(exportDir, ['tinychain', 'tinydag']);
  off = synth({ exportDir, models: 'tinychain,tinydag', upload: 'sync', overrides: JSON.stringify({ planner: { prewarm: { enabled: false } } }) });
  // `enabled` left to its default
  on = synth({ exportDir, models: 'tinychain,tinydag', upload: 'sync', overrides: JSON.stringify({ planner: { prewarm: { minGain: 0.1 } } }) });
}, 240_000);

afterAll(() => removeTempDirs());

describe('planner.prewarm', () => {
  it('is on by default in cdk/offload.config.json and local/offload.local.json, and in the schema', () => {
    for (const file of ['cdk/offload.config.json', 'local/offload.local.json']) {
      const config = loadConfig((k) => (k === 'config' ? file : undefined), PROJECT_ROOT);
      expect(config.planner.prewarm).toEqual({ enabled: true, minGain: 0.05 });
    }
    const bare = loadConfig((k) => (k === 'overrides' ? JSON.stringify({ planner: { prewarm: {} } }) : undefined), PROJECT_ROOT);
    expect(bare.planner.prewarm).toEqual({ enabled: true, minGain: 0.05 });
  });

  it('off: the planner may not invoke anything, is told PREWARM_TAILS=false, and tails have no async-invoke config', () => {
    const actions = plannerStatements(off).flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
    expect(actions).not.toContain('lambda:InvokeFunction');
    expect(plannerEnv(off)).toMatchObject({ PREWARM_TAILS: 'false' });
    expect(plannerEnv(off)).not.toHaveProperty('PREWARM_MIN_GAIN');
    for (const t of off.nested.values()) t.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
  });

  it('on: lambda:InvokeFunction on exactly the deployed tail functions, by name', () => {
    const st = plannerStatements(on).find((x) => x.Sid === 'PrewarmTails')!;
    expect(st.Action).toBe('lambda:InvokeFunction');
    const names = on.deployment.models.flatMap((m) => m.tails.map((t) => t.functionName));
    const resources = st.Resource as unknown[];
    expect(resources).toHaveLength(names.length);
    // arn:<partition>:lambda:<region>:<account>:function:<name>, one per tail, nothing else (no wildcard)
    const rendered = resources.map((r) => JSON.stringify(r));
    for (const name of names) expect(rendered.filter((r) => r.endsWith(`:function:${name}"]]}`))).toHaveLength(1);
    expect(rendered.join()).not.toContain('*');
    expect(plannerStatements(on).filter((x) => JSON.stringify(x.Action).includes('lambda:'))).toHaveLength(1);
  });

  it('a large deployment is named by patterns that match every tail and no other function of this or another stack', () => {
    const models = ['resnet50', 'mobilenetv2', 'googlenet', 'vgg16', 'alexnet', 'm1'];
    const names = models.flatMap((m, i) => Array.from({ length: 30 }, (_, k) => defaultFunctionName(m, k * 7 + i, 'offload', k % 5 === 0 ? 'tfjs-node' : 'wasm')));
    const patterns = tailNamePatterns(names);
    expect(patterns.length).toBeLessThanOrEqual(models.length * 6); // cut widths 1-3, with or without -tfn
    expect(patterns.join()).not.toContain('*');
    for (const name of names) expect(patterns.some((p) => iamMatch(p, name)), name).toBe(true);
    const outsiders = [
      'offload-planner',
      'offload-resnet50', // a model's name alone
      // another stack named offload-resnet50: offload-resnet50-<model>-<cut>, its planner
      'offload-resnet50-m1-3',
      'offload-resnet50-m1-3-tfn',
      'offload-resnet50-planner',
      'offload2-resnet50-12',
      'offload-resnet50-1234',
      'other-resnet50-12',
    ];
    for (const name of outsiders) expect(patterns.filter((p) => iamMatch(p, name)), name).toEqual([]);
    // a small deployment keeps its names, and a lone name in a group stays itself
    expect(tailNamePatterns(names.slice(0, EXACT_TAIL_NAMES))).toEqual(names.slice(0, EXACT_TAIL_NAMES));
    expect(tailNamePatterns([...names, 'offload-solo-123'])).toContain('offload-solo-123');
  });

  it('on: the planner gets PREWARM_TAILS and PREWARM_MIN_GAIN; every tail drops failed or aged prewarm events', () => {
    expect(plannerEnv(on)).toMatchObject({ PREWARM_TAILS: 'true', PREWARM_MIN_GAIN: '0.1' });
    let tails = 0;
    for (const t of on.nested.values()) {
      const fns = Object.keys(resourcesOf(t, 'AWS::Lambda::Function')).length;
      t.resourceCountIs('AWS::Lambda::EventInvokeConfig', fns);
      t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, Qualifier: '$LATEST' });
      tails += fns;
    }
    expect(tails).toBe(on.deployment.models.reduce((n, m) => n + m.tails.length, 0));
  });

  it('on: no new cdk-nag finding', () => {
    expect(nagErrors(on.stack)).toEqual([]);
  });

  it('rejects a bad setting with the field named', () => {
    for (const [prewarm, message] of [
      [{ enabled: 'yes' }, /planner\.prewarm\.enabled/],
      [{ minGain: 1.5 }, /planner\.prewarm\.minGain: must be in 0\.\.1/],
      [{ everySecond: true }, /planner\.prewarm/],
    ] as const) {
      expect(() => loadConfig((k) => (k === 'overrides' ? JSON.stringify({ planner: { prewarm } }) : undefined), PROJECT_ROOT)).toThrow(message);
    }
  });
});

describe('planner.prewarm with Match', () => {
  it('leaves the rest of the planner as it was', () => {
    on.root.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'offload-planner',
      Environment: { Variables: Match.objectLike({ OFFLOAD_CATALOG_FILE: 'catalog.json', ARTIFACT_PREFIX: 'models/' }) },
    });
  });
});
