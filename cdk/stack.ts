import { isAbsolute, resolve } from 'node:path';
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { DEFAULT_ENTRIES, type HandlerEntries } from './bundling';
import type { Deployment } from './config';
import { Api } from './constructs/api';
import { IdentityPool } from './constructs/identity-pool';
import { ModelStore } from './constructs/model-store';
import { Planner } from './constructs/planner';
import { Registry } from './constructs/registry';
import { Dashboard } from './constructs/dashboard';
import { TailFleet } from './constructs/tail-fleet';
import { addNagSuppressions } from './nag';

export interface OffloadStackProps extends StackProps {
  deployment: Deployment;
  /** The folder holding package.json, package-lock.json, functions/, layers/. */
  projectRoot: string;
  /** Handler entries (tests point them at stand-ins); default functions/{tail,planner}/index.ts. */
  entries?: Partial<HandlerEntries>;
}

/**
 * Everything `cdk deploy` creates: the root stack holds the model store, the
 * registry, the API and the planner; each model's tails live in nested stacks
 * (see TailFleet). Environment-agnostic: no account or region lookups, so
 * synthesis runs offline.
 */
export class OffloadStack extends Stack {
  readonly deployment: Deployment;
  readonly store: ModelStore;
  readonly registry: Registry;
  readonly api: Api;
  readonly planner: Planner;
  readonly fleet: TailFleet;
  /** The Cognito identity pool of `browser.identityPool`, when enabled. */
  readonly identityPool: IdentityPool | undefined;

  constructor(scope: Construct, id: string, props: OffloadStackProps) {
    super(scope, id, {
      description: 'offload: collaborative DNN inference between devices and AWS Lambda (planner, tail functions, fleet registry)',
      ...props,
    });
    const { deployment, projectRoot } = props;
    this.deployment = deployment;
    const { config } = deployment;
    const entry = (e: string): string => (isAbsolute(e) ? e : resolve(projectRoot, e));
    const entries: HandlerEntries = { ...DEFAULT_ENTRIES, ...props.entries };
    const runtime = lambda.Runtime.NODEJS_22_X;
    const architecture = config.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;

    this.store = new ModelStore(this, 'ModelStore', {
      upload: config.upload === 'deployment' ? deployment.models : [],
      allowOrigins: config.browser.allowOrigins,
    });
    this.registry = new Registry(this, 'Registry');
    this.api = new Api(this, 'Api', { retentionDays: config.logRetentionDays, throttle: config.throttle, allowOrigins: config.browser.allowOrigins });
    this.api.clientPolicy.addStatements(this.store.clientReadStatement());
    const { identityPool: pool } = config.browser;
    this.identityPool = pool.enabled
      ? new IdentityPool(this, 'IdentityPool', {
          clientPolicy: this.api.clientPolicy,
          allowUnauthenticated: pool.allowUnauthenticated,
          classicFlow: pool.classicFlow,
          userPools: pool.userPools,
          loginProviders: pool.loginProviders,
        })
      : undefined;
    const shared = { projectRoot, store: this.store, registry: this.registry, api: this.api, runtime, architecture };
    this.planner = new Planner(this, 'Planner', { deployment, context: { ...shared, entry: entry(entries.planner) } });
    this.fleet = new TailFleet(this, 'TailFleet', { deployment, context: { ...shared, entry: entry(entries.tail), config } });
    new Dashboard(this, 'Dashboard', {
      dashboardName: config.stackName,
      functionNames: [`${config.stackName}-planner`, ...deployment.models.flatMap((m) => m.tails.map((t) => t.functionName))],
      functionPrefix: `${config.stackName}-`,
      httpApi: this.api.httpApi,
    });
    addNagSuppressions(this);
  }
}
