import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CORS_MAX_AGE_SECONDS, CORS_REQUEST_HEADERS, EXPOSED_HEADERS } from '../../core/api';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ApiProps {
  retentionDays: number;
  /** Origins a page may call the API from (CORS); empty = no CORS. */
  allowOrigins: readonly string[];
  /** Stage throttling for every route, and a tighter one for `POST /plan` (cdk/config.ts `throttle`). */
  throttle: { rateLimit: number; burstLimit: number; plan: { rateLimit: number; burstLimit: number } };
}

/**
 * The HTTP API in front of the planner and the tails, with IAM (SigV4)
 * authorization on every route: a caller needs `execute-api:Invoke` on the
 * route, which the `ClientPolicy` managed policy grants (attach it to the
 * user or role a device or the CLI signs with; for a fleet of devices, to the
 * authenticated role of a Cognito identity pool). Access logs go to a log
 * group; the `$default` stage deploys automatically.
 */
export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly clientPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'offload: planner and tail functions',
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
      // API Gateway answers preflights itself (no authorizer runs) and adds the CORS headers to every answer.
      ...(props.allowOrigins.length === 0
        ? {}
        : {
            corsPreflight: {
              allowOrigins: [...props.allowOrigins],
              allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.OPTIONS],
              allowHeaders: [...CORS_REQUEST_HEADERS],
              exposeHeaders: [...EXPOSED_HEADERS],
              maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
            },
          }),
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.retentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });
    // HttpStage has no per-route throttle option; CloudFormation's RouteSettings has.
    (this.stage.node.defaultChild as apigw.CfnStage).addPropertyOverride('RouteSettings', {
      'POST /plan': { ThrottlingRateLimit: props.throttle.plan.rateLimit, ThrottlingBurstLimit: props.throttle.plan.burstLimit },
    });
    const stack = Stack.of(this);
    const invokeArn = (method: string, path: string): string =>
      stack.formatArn({ service: 'execute-api', resource: this.httpApi.apiId, resourceName: `$default/${method}${path}` });
    this.clientPolicy = new iam.ManagedPolicy(this, 'ClientPolicy', {
      description: 'Lets a device or CLI call the offload API (plan, models, infer on every deployed tail) and download heads and full models',
      statements: [
        new iam.PolicyStatement({
          actions: ['execute-api:Invoke'],
          resources: [invokeArn('POST', '/plan'), invokeArn('GET', '/models'), invokeArn('POST', '/infer/*')],
        }),
      ],
    });
    // apiEndpoint has no trailing slash, so `$URL/plan` is a valid path (stage.url ends with /).
    new CfnOutput(this, 'Url', { value: this.httpApi.apiEndpoint, description: 'API base URL (requests must be SigV4-signed, service execute-api)' });
    new CfnOutput(this, 'ClientPolicyArn', { value: this.clientPolicy.managedPolicyArn, description: 'Attach to the IAM user/role that calls the API' });
  }

  /** A Lambda proxy integration (payload format 2.0) for `handler`; share one between routes of the same function. */
  static integration(id: string, handler: lambda.IFunction): HttpLambdaIntegration {
    return new HttpLambdaIntegration(id, handler);
  }

  /**
   * Adds `method path` → `integration` in `scope` (a nested stack may hold the
   * route, its integration and its invoke permission), IAM-authorized.
   */
  addRoute(scope: Construct, id: string, method: apigw.HttpMethod, path: string, integration: HttpLambdaIntegration): apigw.HttpRoute {
    return new apigw.HttpRoute(scope, id, {
      httpApi: this.httpApi,
      routeKey: apigw.HttpRouteKey.with(path, method),
      integration,
      authorizer: new HttpIamAuthorizer(),
    });
  }
}
