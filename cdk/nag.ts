/**
 * cdk-nag (AwsSolutions) suppressions, each on the narrowest construct and
 * with its reason in one line. Everything not listed here must pass.
 */
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { Deployment } from './config';
import type { Api } from './constructs/api';
import type { IdentityPool } from './constructs/identity-pool';
import type { ModelStore } from './constructs/model-store';
import type { Planner } from './constructs/planner';
import type { Registry } from './constructs/registry';
import type { TailFleet } from './constructs/tail-fleet';

/** The parts of the app's stack that carry suppressions (OffloadStack has them; named here so nag.ts need not import stack.ts, which calls it). */
export interface NaggedStack extends Stack {
  readonly deployment: Deployment;
  readonly store: ModelStore;
  readonly registry: Registry;
  readonly api: Api;
  readonly planner: Planner;
  readonly fleet: TailFleet;
  readonly identityPool: IdentityPool | undefined;
}

const RUNTIME_REASON =
  'nodejs22.x is the runtime the handlers are built and tested for (docs/deploy.md); moving to a newer one is a tested, deliberate change, not a lint fix.';

function logicalId(c: IConstruct): string {
  const element = c.node.defaultChild as CfnElement;
  return Stack.of(element).getLogicalId(element);
}

/**
 * `appliesTo` for "every object under `prefix` of the artifact bucket". In a
 * nested stack the bucket ARN reaches the role as a parameter
 * (`referenceto…ModelStoreBucket…Arn`) once references are resolved, so both
 * spellings of the bucket are accepted; the prefix must match exactly.
 */
function bucketObjects(bucketId: string, prefix: string): { regex: string } {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return { regex: `/^Resource::<(${bucketId}\\.Arn|referenceto[A-Za-z0-9]*${bucketId.replace(/[0-9A-F]{8}$/, '')}[A-Za-z0-9]*Arn)>\\/${escaped}\\*$/g` };
}

/** Adds the app's suppressions to `stack` and its nested stacks. */
export function addNagSuppressions(stack: NaggedStack): void {
  const bucketId = logicalId(stack.store.bucket);

  NagSuppressions.addResourceSuppressions(stack.store.bucket, [
    {
      id: 'AwsSolutions-S1',
      reason: 'Objects are derived model artifacts read only by the stack’s own roles; CloudTrail data events, not a second log bucket, are the audit path if one is needed.',
    },
  ]);
  NagSuppressions.addResourceSuppressions(stack.registry.table, [
    { id: 'AwsSolutions-DDB3', reason: 'The registry holds seconds-old liveness state that rebuilds itself as instances start; there is nothing to restore.' },
  ]);
  NagSuppressions.addResourceSuppressions(stack.api.clientPolicy, [
    {
      id: 'AwsSolutions-IAM5',
      reason: 'Callers may invoke every deployed tail route; the wildcard covers exactly POST /infer/* of this API’s $default stage.',
      appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<.*>\\/\\$default\\/POST\\/infer\\/\\*$/g' }],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'Devices download what GET /models lists for every deployed model: manifests, heads, full models and the weight segments they name (never a tail’s model.json).',
      appliesTo: ['manifest.json', 'heads/*', 'full/*', 'segments/*'].map((p) => `Resource::<${bucketId}.Arn>/models/*/${p}`),
    },
  ]);
  if (stack.identityPool?.unauthenticatedRole) {
    NagSuppressions.addResourceSuppressions(stack.identityPool.pool, [
      {
        id: 'AwsSolutions-COG7',
        reason:
          'browser.identityPool.allowUnauthenticated is on: any visitor of the page may plan and infer, which the guest role limits to exactly the client policy (this API’s routes and the device artifacts).',
      },
    ]);
  }
  NagSuppressions.addResourceSuppressions(stack.planner.fn, [{ id: 'AwsSolutions-L1', reason: RUNTIME_REASON }]);
  NagSuppressions.addResourceSuppressions(stack.planner.role, [
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'The planner reads optional per-model cloud profiles (models/<model>/profiles/*), and presigns the device artifacts (heads/*, full/*, the weight segments/* they name) GET /models hands to pages, one prefix each per deployed model; never tails.',
      appliesTo: stack.deployment.models.flatMap((m) => ['profiles/', 'heads/', 'full/', 'segments/'].map((p) => bucketObjects(bucketId, `models/${m.model}/${p}`))),
    },
  ]);
  for (const tail of stack.fleet.functions) {
    // A tail's role names each object it reads (its model.json and segments): no wildcard to suppress.
    NagSuppressions.addResourceSuppressions(tail.fn, [{ id: 'AwsSolutions-L1', reason: RUNTIME_REASON }]);
  }
  for (const deployment of stack.store.deployments) {
    // The BucketDeployment's handler and role are CDK's own (the default `upload: "deployment"`).
    NagSuppressions.addResourceSuppressionsByPath(
      stack,
      deployment.handlerRole.node.path,
      [
        { id: 'AwsSolutions-IAM4', reason: 'CDK’s BucketDeployment handler role uses AWSLambdaBasicExecutionRole; its code and role are owned by aws-cdk-lib.' },
        { id: 'AwsSolutions-IAM5', reason: 'CDK’s BucketDeployment copies whole asset zips from the bootstrap bucket into models/<model>/ of the artifact bucket.' },
      ],
      true,
    );
  }
  for (const child of stack.node.children) {
    if (child.node.id.startsWith('Custom::CDKBucketDeployment')) {
      NagSuppressions.addResourceSuppressions(child, [
        { id: 'AwsSolutions-L1', reason: 'The BucketDeployment handler (Python) and its runtime are pinned by aws-cdk-lib, not by this app.' },
      ]);
    }
  }
}
