import { Duration, NestedStack, Size, Stage } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { join } from 'node:path';
import { Construct } from 'constructs';
import { LAMBDA_TASK_ROOT, tailBundling } from '../bundling';
import type { Deployment, ModelDeployment, OffloadConfig, TailSpec } from '../config';
import { TFJS_NODE_WASM_DIR, tfjsNodeImageCode } from '../tfjs-node-image';
import { fleetKey } from '../../core/registry-keys';
import { Api } from './api';
import { FunctionAlarms } from './function-alarms';
import { FunctionBasics, nodejsSource, type FunctionContext } from './function-basics';

/** What every tail function shares: the app's function context (`entry` is functions/tail/index.ts) and the config. */
export interface TailContext extends FunctionContext {
  config: OffloadConfig;
}

export interface TailFunctionProps {
  spec: TailSpec;
  context: TailContext;
  /** The shutdown extension layer (ZIP functions only; {@link shutdownExtensionLayer}). */
  shutdownExtension?: lambda.ILayerVersion;
}

/**
 * The layer holding layers/shutdown-extension: a minimal external extension
 * registered for SHUTDOWN. With an extension registered, Lambda sends the
 * runtime SIGTERM in the Shutdown phase (2,000 ms before SIGKILL), which the
 * tail uses to mark its environment gone in the fleet registry; without one
 * the environment would vanish silently (docs/functions.md, "Fleet registry").
 */
export function shutdownExtensionLayer(scope: Construct, id: string, projectRoot: string): lambda.LayerVersion {
  return new lambda.LayerVersion(scope, id, {
    code: lambda.Code.fromAsset(join(projectRoot, 'layers', 'shutdown-extension')),
    description: 'offload: registers for SHUTDOWN so the tail runtime gets SIGTERM and can leave the fleet registry',
  });
}

/**
 * One tail function: layers ≥ cut of one model, behind `POST /infer/<model>/<cut>`.
 * Its role reads only its model.json and the weight segments of layers ≥ cut
 * (`spec.artifactKeys`), and writes only the
 * registry items whose partition key is `<model>#<cut>`. With provisioned
 * concurrency, the route targets the `live` alias that holds it.
 */
export class TailFunction extends Construct {
  readonly spec: TailSpec;
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  /** What the API invokes: the `live` alias when provisioned concurrency is set, else the function. */
  readonly target: lambda.IFunction;

  constructor(scope: Construct, id: string, props: TailFunctionProps) {
    super(scope, id);
    const { spec, context, shutdownExtension } = props;
    const { config, store, registry } = context;
    this.spec = spec;
    const basics = new FunctionBasics(this, 'Basics', {
      functionName: spec.functionName,
      retentionDays: config.logRetentionDays,
      statements: [...store.readStatements(spec.artifactKeys), registry.ownItemsStatement(fleetKey(spec.model, spec.cut))],
    });
    this.role = basics.role;
    const tfjsNode = config.backend === 'tfjs-node';
    const common = {
      functionName: spec.functionName,
      description: `offload tail: ${spec.model} layers >= ${spec.cut} (after ${spec.layer})`,
      architecture: context.architecture,
      memorySize: spec.memoryMB,
      ephemeralStorageSize: Size.mebibytes(spec.ephemeralStorageMB),
      timeout: Duration.seconds(spec.timeoutSeconds),
      reservedConcurrentExecutions: spec.reservedConcurrency,
      role: basics.role,
      logGroup: basics.logGroup,
      environment: {
        MODEL_NAME: spec.model,
        CUT: String(spec.cut),
        MAX_BATCH: String(spec.maxBatch),
        ARTIFACT_BUCKET: store.bucket.bucketName,
        ARTIFACT_PREFIX: spec.artifactPrefix,
        REGISTRY_TABLE: registry.table.tableName,
        OFFLOAD_BACKEND: tfjsNode ? 'tensorflow' : 'wasm',
        OFFLOAD_WASM_DIR: tfjsNode ? TFJS_NODE_WASM_DIR : LAMBDA_TASK_ROOT,
        // the threads the catalog prices (cdk/config.ts): pinned, so the tail cannot run another count
        ...(spec.wasmThreads === undefined ? {} : { OFFLOAD_WASM_THREADS: String(spec.wasmThreads) }),
      },
    };
    this.fn = tfjsNode
      ? new lambda.DockerImageFunction(this, 'Function', {
          ...common,
          code: tfjsNodeImageCode(context.projectRoot, context.entry, context.architecture, Stage.of(this)!.outdir),
        })
      : new NodejsFunction(this, 'Function', {
          ...common,
          ...nodejsSource(context),
          bundling: tailBundling(context.entry),
          ...(shutdownExtension ? { layers: [shutdownExtension] } : {}),
        });
    // A prewarm (planner.prewarm) is an asynchronous invoke: one that failed or aged is not worth a retry.
    if (config.planner.prewarm.enabled) this.fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });
    this.target =
      spec.provisionedConcurrency > 0
        ? new lambda.Alias(this, 'Live', {
            aliasName: 'live',
            version: this.fn.currentVersion,
            provisionedConcurrentExecutions: spec.provisionedConcurrency,
          })
        : this.fn;
    new FunctionAlarms(this, 'Alarms', { fn: this.fn, functionName: spec.functionName, label: `tail ${spec.model} cut ${spec.cut}`, alarms: config.alarms });
    context.api.addRoute(this, 'Route', apigw.HttpMethod.POST, spec.route, Api.integration('Integration', this.target));
  }
}

export interface ModelTailsProps {
  model: string;
  tails: readonly TailSpec[];
  context: TailContext;
}

/**
 * A nested stack with some tail functions of one model (all of them unless
 * the model has more than `tailsPerStack`), their routes and alarms. Each
 * tail costs at most 10 resources, so a nested stack stays far below
 * CloudFormation's 500 and the root stack holds one resource per nested stack.
 */
export class ModelTails extends NestedStack {
  readonly functions: TailFunction[];

  constructor(scope: Construct, id: string, props: ModelTailsProps) {
    super(scope, id, { description: `offload tails of ${props.model}: cuts ${props.tails.map((t) => t.cut).join(', ')}` });
    // Container-image tails (tfjs-node) take no layers; their image would have to carry the extension.
    const shutdownExtension = props.context.config.backend === 'tfjs-node' ? undefined : shutdownExtensionLayer(this, 'ShutdownExtension', props.context.projectRoot);
    this.functions = props.tails.map((spec) => new TailFunction(this, `Cut${spec.cut}`, { spec, context: props.context, ...(shutdownExtension ? { shutdownExtension } : {}) }));
  }
}

export interface TailFleetProps {
  deployment: Deployment;
  context: TailContext;
}

/** Every tail function of the deployment, one nested stack per model (or per `tailsPerStack` tails of it). */
export class TailFleet extends Construct {
  readonly stacks: ModelTails[] = [];
  readonly functions: TailFunction[] = [];

  constructor(scope: Construct, id: string, props: TailFleetProps) {
    super(scope, id);
    const size = props.deployment.config.tailsPerStack;
    for (const m of props.deployment.models) {
      for (const [i, tails] of chunks(m, size).entries()) {
        const stack = new ModelTails(this, i === 0 ? `Tails-${m.model}` : `Tails-${m.model}-${i + 1}`, {
          model: m.model,
          tails,
          context: props.context,
        });
        this.stacks.push(stack);
        this.functions.push(...stack.functions);
      }
    }
  }
}

function chunks(m: ModelDeployment, size: number): TailSpec[][] {
  const out: TailSpec[][] = [];
  for (let i = 0; i < m.tails.length; i += size) out.push(m.tails.slice(i, i + size));
  return out;
}
