import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Api } from './api';
import type { ModelStore } from './model-store';
import type { Registry } from './registry';

/** What every function of the app shares: where its code comes from, how it runs, and the resources it talks to. */
export interface FunctionContext {
  /** Absolute path of the handler's entry (functions/<name>/index.ts, or a stand-in in tests). */
  entry: string;
  projectRoot: string;
  store: ModelStore;
  registry: Registry;
  api: Api;
  runtime: lambda.Runtime;
  architecture: lambda.Architecture;
}

/** The NodejsFunction props that say which code to bundle and run, the same for every handler. */
export function nodejsSource(context: FunctionContext): Pick<NodejsFunctionProps, 'entry' | 'handler' | 'projectRoot' | 'depsLockFilePath' | 'runtime'> {
  return {
    entry: context.entry,
    handler: 'handler',
    projectRoot: context.projectRoot,
    depsLockFilePath: `${context.projectRoot}/package-lock.json`,
    runtime: context.runtime,
  };
}

export interface FunctionBasicsProps {
  functionName: string;
  retentionDays: number;
  /** Everything the function may do besides writing its own logs. */
  statements: readonly iam.PolicyStatement[];
}

/**
 * The log group and role every function of the app gets.
 *
 * The log group is created explicitly (`/aws/lambda/<name>`, retention from
 * config) instead of through `logRetention`, which would add a custom-resource
 * Lambda per stack. It is destroyed with the stack: function names are fixed,
 * and a retained group of the same name would block the next deployment.
 * The role holds ONE inline policy — its own log group plus `statements` —
 * and no managed policy, so least privilege is visible in one place and each
 * function costs one IAM resource, not two.
 */
export class FunctionBasics extends Construct {
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: FunctionBasicsProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.retentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
      inlinePolicies: {
        access: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [this.logGroup.logGroupArn],
            }),
            ...props.statements,
          ],
        }),
      },
    });
  }
}
