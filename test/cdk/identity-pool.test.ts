/**
 * `browser.identityPool`: a Cognito identity pool whose guest and signed-in
 * roles get the API's client policy, synthesised offline with the real
 * handlers and cdk-nag, and absent when the option is off (the default).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportZoo, nagErrors, resourcesOf, synth, tempDir, removeTempDirs, type Synthesized } from './helpers';

// Three synths, each bundling the planner and the tails: well over the 120 s default on a loaded 2-core machine.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

type Resource = { Properties: Record<string, unknown> };
const USER_POOL = { userPoolId: 'eu-west-1_AbCdEf123', clientId: '1example23456789' };

let exportDir: string;
let guests: Synthesized;
beforeAll(async () => {
  exportDir = tempDir('idpool-export');
  await exportZoo(exportDir, ['tinychain']);
  guests = synth({
    exportDir,
    models: 'tinychain',
    upload: 'sync',
    overrides: JSON.stringify({
      browser: { identityPool: { enabled: true, classicFlow: true, userPools: [USER_POOL], loginProviders: { 'accounts.google.com': '123.apps.googleusercontent.com' } } },
    }),
  });
});
afterAll(removeTempDirs);

function only(s: Synthesized, type: string): [string, Resource] {
  const all = Object.entries(resourcesOf(s.root, type));
  expect(all, type).toHaveLength(1);
  return all[0]!;
}

/** The roles a Cognito identity can assume, by the `amr` their trust policy requires. */
function cognitoRoles(s: Synthesized): Map<string, { id: string; role: Resource }> {
  const out = new Map<string, { id: string; role: Resource }>();
  for (const [id, role] of Object.entries(resourcesOf(s.root, 'AWS::IAM::Role'))) {
    const doc = role.Properties['AssumeRolePolicyDocument'] as { Statement: { Principal?: { Federated?: string }; Condition?: Record<string, Record<string, unknown>> }[] };
    const st = doc.Statement.find((x) => x.Principal?.Federated === 'cognito-identity.amazonaws.com');
    if (st) out.set(String(st.Condition?.['ForAnyValue:StringLike']?.['cognito-identity.amazonaws.com:amr']), { id, role });
  }
  return out;
}

function clientPolicyId(s: Synthesized): string {
  const [id] = Object.entries(resourcesOf(s.root, 'AWS::IAM::ManagedPolicy')).find(([, p]) => String(p.Properties['Description']).startsWith('Lets a device or CLI call the offload API'))!;
  return id;
}

describe('browser.identityPool enabled (guests allowed)', () => {
  it('creates one identity pool with guests, the classic flow, and the configured login providers', () => {
    const [, pool] = only(guests, 'AWS::Cognito::IdentityPool');
    expect(pool.Properties).toEqual({
      AllowUnauthenticatedIdentities: true,
      AllowClassicFlow: true,
      CognitoIdentityProviders: [{ ProviderName: 'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123', ClientId: USER_POOL.clientId, ServerSideTokenCheck: true }],
      SupportedLoginProviders: { 'accounts.google.com': '123.apps.googleusercontent.com' },
    });
  });

  it('gives a guest role and a signed-in role, each trusting only this pool and only its kind of identity', () => {
    const [poolId] = only(guests, 'AWS::Cognito::IdentityPool');
    const roles = cognitoRoles(guests);
    expect([...roles.keys()].sort()).toEqual(['authenticated', 'unauthenticated']);
    for (const [amr, { role }] of roles) {
      expect(role.Properties['AssumeRolePolicyDocument']).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: 'cognito-identity.amazonaws.com' },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: poolId } },
              'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': amr },
            },
          },
        ],
      });
    }
  });

  it('attaches the client policy (plan, models, infer, device artifacts) and nothing else to both roles', () => {
    const policyId = clientPolicyId(guests);
    for (const { role } of cognitoRoles(guests).values()) {
      expect(role.Properties['ManagedPolicyArns']).toEqual([{ Ref: policyId }]);
      expect(role.Properties['Policies']).toBeUndefined();
    }
    const doc = resourcesOf(guests.root, 'AWS::IAM::ManagedPolicy')[policyId]!.Properties['PolicyDocument'] as { Statement: { Action: string | string[]; Resource: unknown }[] };
    const actions = doc.Statement.flatMap((s) => [s.Action].flat());
    expect(actions.sort()).toEqual(['execute-api:Invoke', 's3:GetObject']);
    const routes = JSON.stringify(doc.Statement.find((s) => s.Action === 'execute-api:Invoke')!.Resource);
    for (const r of ['$default/POST/plan', '$default/GET/models', '$default/POST/infer/*']) expect(routes).toContain(r);
  });

  it('maps the pool’s authenticated and unauthenticated identities to those roles', () => {
    const [poolId] = only(guests, 'AWS::Cognito::IdentityPool');
    const [, attachment] = only(guests, 'AWS::Cognito::IdentityPoolRoleAttachment');
    const roles = cognitoRoles(guests);
    expect(attachment.Properties).toEqual({
      IdentityPoolId: { Ref: poolId },
      Roles: {
        authenticated: { 'Fn::GetAtt': [roles.get('authenticated')!.id, 'Arn'] },
        unauthenticated: { 'Fn::GetAtt': [roles.get('unauthenticated')!.id, 'Arn'] },
      },
    });
  });

  it('outputs the pool id and both role ARNs', () => {
    const outputs = Object.entries(guests.root.toJSON()['Outputs'] as Record<string, { Value: unknown }>);
    const [poolId] = only(guests, 'AWS::Cognito::IdentityPool');
    expect(outputs.find(([k]) => k.startsWith('IdentityPoolId'))?.[1].Value).toEqual({ Ref: poolId });
    expect(outputs.filter(([k]) => /^IdentityPool(Unauthenticated|Authenticated)RoleArn/.test(k))).toHaveLength(2);
  });

  it('passes cdk-nag, guest access being the one justified suppression', () => {
    expect(nagErrors(guests.stack)).toEqual([]);
    const [, pool] = Object.entries(guests.root.toJSON()['Resources'] as Record<string, { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: { id: string }[] } } }>).find(
      ([, r]) => r.Type === 'AWS::Cognito::IdentityPool',
    )!;
    expect(pool.Metadata?.cdk_nag?.rules_to_suppress.map((r) => r.id)).toEqual(['AwsSolutions-COG7']);
  });
});

describe('browser.identityPool for signed-in users only', () => {
  it('has no guest role, maps only authenticated identities, and needs no suppression', () => {
    const s = synth({
      exportDir,
      models: 'tinychain',
      upload: 'sync',
      overrides: JSON.stringify({ browser: { identityPool: { enabled: true, allowUnauthenticated: false, userPools: [USER_POOL] } } }),
    });
    const [, pool] = only(s, 'AWS::Cognito::IdentityPool');
    expect(pool.Properties).toMatchObject({ AllowUnauthenticatedIdentities: false, AllowClassicFlow: false });
    expect([...cognitoRoles(s).keys()]).toEqual(['authenticated']);
    const [, attachment] = only(s, 'AWS::Cognito::IdentityPoolRoleAttachment');
    expect(Object.keys(attachment.Properties['Roles'] as object)).toEqual(['authenticated']);
    expect(nagErrors(s.stack)).toEqual([]);
    expect(JSON.stringify(s.root.toJSON())).not.toContain('AwsSolutions-COG7');
  });
});

describe('browser.identityPool off (the default)', () => {
  it('creates no pool, no attachment and no role a Cognito identity could assume', () => {
    const s = synth({ exportDir, models: 'tinychain', upload: 'sync' });
    expect(s.deployment.config.browser.identityPool.enabled).toBe(false);
    s.root.resourceCountIs('AWS::Cognito::IdentityPool', 0);
    s.root.resourceCountIs('AWS::Cognito::IdentityPoolRoleAttachment', 0);
    expect(cognitoRoles(s).size).toBe(0);
    expect(Object.keys(s.root.toJSON()['Outputs'] as object).some((k) => k.startsWith('IdentityPool'))).toBe(false);
  });
});
