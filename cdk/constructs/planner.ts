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
 * gets `lambda:InvokeFunction` on exactly those functions, by name (they
 * live in nested stacks; a name-built ARN needs no cross-stack reference).
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

  /** `lambda:InvokeFunction` on every tail function of the deployment and nothing else. */
  static invokeTailsStatement(scope: Construct, deployment: Deployment): iam.PolicyStatement {
    const stack = Stack.of(scope);
    return new iam.PolicyStatement({
      sid: 'PrewarmTails',
      actions: ['lambda:InvokeFunction'],
      resources: deployment.models.flatMap((m) =>
        m.tails.map((t) => stack.formatArn({ service: 'lambda', resource: 'function', resourceName: t.functionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
      ),
    });
  }
}
