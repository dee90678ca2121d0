import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { CATALOG_FILE_ENV, CATALOG_FILE_NAME } from '../../core/catalog';
import { plannerBundling } from '../bundling';
import { ARTIFACT_PREFIX, type Deployment } from '../config';
import { Api } from './api';
import { FunctionAlarms } from './function-alarms';
import { FunctionBasics, nodejsSource, type FunctionContext } from './function-basics';

export interface PlannerProps {
  deployment: Deployment;
  /** The app's shared function context; `entry` is functions/planner/index.ts. */
  context: FunctionContext;
}

/**
 * The planner function behind `POST /plan` and `GET /models`. It reads the
 * deployment catalog bundled beside its handler (`catalog.json`), the
 * models' manifests (and optional cloud profiles) from S3, and the fleet
 * registry; it writes nothing. With `planner.prewarm.enabled` (the default) it may also
 * invoke the tail functions asynchronously (core/prewarm.ts): its role then
 * gets `lambda:InvokeFunction` on those functions, by name or, in a large
 * deployment, by name pattern (`tailNamePatterns`; they live in nested stacks,
 * and a name-built ARN needs no cross-stack reference).
 */
export class Planner extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: PlannerProps) {
    super(scope, id);
    const { deployment, context } = props;
    const { store, registry } = context;
    const { config } = deployment;
    const functionName = `${config.stackName}-planner`;
    const { prewarm } = config.planner;
    const statements = [store.plannerReadStatement(deployment.models.map((m) => m.model)), registry.readStatement()];
    if (prewarm.enabled) statements.push(Planner.invokeTailsStatement(this, deployment));
    const basics = new FunctionBasics(this, 'Basics', {
      functionName,
      retentionDays: config.logRetentionDays,
      statements,
    });
    this.role = basics.role;
    this.fn = new NodejsFunction(this, 'Function', {
      functionName,
      description: 'offload planner: POST /plan, GET /models',
      ...nodejsSource(context),
      architecture: context.architecture,
      memorySize: config.planner.memoryMB,
      timeout: Duration.seconds(config.planner.timeoutSeconds),
      reservedConcurrentExecutions: config.planner.reservedConcurrency,
      role: basics.role,
      logGroup: basics.logGroup,
      environment: {
        ARTIFACT_BUCKET: store.bucket.bucketName,
        ARTIFACT_PREFIX,
        REGISTRY_TABLE: registry.table.tableName,
        [CATALOG_FILE_ENV]: CATALOG_FILE_NAME,
        ARTIFACT_URL_SECONDS: String(config.browser.artifactUrlSeconds),
        ...(config.planner.fleetKeepAliveMs === undefined ? {} : { FLEET_KEEPALIVE_MS: String(config.planner.fleetKeepAliveMs) }),
        // Written either way: the function's own default (on) must not decide a deployment that turned it off.
        PREWARM_TAILS: String(prewarm.enabled),
        ...(prewarm.enabled ? { PREWARM_MIN_GAIN: String(prewarm.minGain) } : {}),
      },
      bundling: plannerBundling(deployment.catalog),
    });
    new FunctionAlarms(this, 'Alarms', { fn: this.fn, functionName, label: 'planner', alarms: config.alarms });
    const integration = Api.integration('PlannerIntegration', this.fn);
    context.api.addRoute(this, 'PlanRoute', apigw.HttpMethod.POST, '/plan', integration);
    context.api.addRoute(this, 'ModelsRoute', apigw.HttpMethod.GET, '/models', integration);
  }

  /**
   * `lambda:InvokeFunction` on the tail functions of the deployment. By name while
   * that stays small; past {@link EXACT_TAIL_NAMES} tails, by the name patterns of
   * {@link tailNamePatterns}, since each name costs about 70 of the role policy's
   * 10,240 characters and prewarm is on by default (79 zoo tails took 8,875).
   */
  static invokeTailsStatement(scope: Construct, deployment: Deployment): iam.PolicyStatement {
    const stack = Stack.of(scope);
    const names = deployment.models.flatMap((m) => m.tails.map((t) => t.functionName));
    return new iam.PolicyStatement({
      sid: 'PrewarmTails',
      actions: ['lambda:InvokeFunction'],
      resources: tailNamePatterns(names).map((name) =>
        stack.formatArn({ service: 'lambda', resource: 'function', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ),
    });
  }
}

/** Up to this many tails, the prewarm permission names each one (about 2,800 characters of policy). */
export const EXACT_TAIL_NAMES = 40;

/**
 * The names the planner may invoke: the tail names themselves up to
 * {@link EXACT_TAIL_NAMES}, else one IAM pattern per group of names that differ
 * only in their cut's digits, with `?` (one character) in place of each digit:
 * `offload-resnet50-12` and `offload-resnet50-47` become `offload-resnet50-??`.
 * A pattern matches only names of the deployment's own stack and model with a cut
 * of that many characters (and the same `-tfn` suffix or none), so no other
 * stack's functions and not the planner itself; never `*`. A group of one stays a name.
 */
export function tailNamePatterns(names: readonly string[]): string[] {
  if (names.length <= EXACT_TAIL_NAMES) return [...names];
  const groups = new Map<string, string[]>();
  for (const name of names) {
    // <stack>-<model>-<cut>[-tfn] (core/planner.ts defaultFunctionName)
    const m = /^(.*-)(\d+)(-tfn)?$/.exec(name);
    const key = m ? `${m[1]}${'?'.repeat(m[2]!.length)}${m[3] ?? ''}` : name;
    groups.set(key, [...(groups.get(key) ?? []), name]);
  }
  return [...groups].flatMap(([pattern, members]) => (members.length > 1 ? [pattern] : members));
}
