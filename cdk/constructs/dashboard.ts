import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE } from '../../core/metric-names';
import { alarmNames } from './function-alarms';

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export interface DashboardProps {
  /** The CloudWatch dashboard's name. */
  dashboardName: string;
  /** Physical names of every function (planner and tails): their alarms are found by name. */
  functionNames: readonly string[];
  /** Prefix every function name starts with (`<stackName>-`), for the Lambda metric searches. */
  functionPrefix: string;
  httpApi: apigw.IHttpApi;
}

/**
 * One CloudWatch dashboard for the deployment: the functions' own metrics
 * (EMF, namespace `offload`: cold starts, init and compute times, bytes in
 * and out, 4xx/5xx answers), the throttles Lambda and API Gateway count
 * (429s never reach a handler), and the state of every function's alarms.
 * Alarms are referenced by name, never across nested stacks.
 */
export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const period = Duration.minutes(1);
    const emf = (name: string, statistic: string, service: 'tail' | 'planner', label = `${service} ${name} ${statistic}`) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { service }, statistic, period, label });
    const search = (expression: string, label: string) => new cloudwatch.MathExpression({ expression, label, period, usingMetrics: {} });
    const stack = Stack.of(this);
    const alarms = props.functionNames.flatMap((name) =>
      Object.values(alarmNames(name)).map((alarmName) =>
        cloudwatch.Alarm.fromAlarmArn(this, `Alarm-${alarmName}`, stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: alarmName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
      ),
    );
    const apiMetric = (metricName: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: { ApiId: props.httpApi.apiId }, statistic: 'Sum', period, label: `API ${metricName}` });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Cold starts (per function)',
            width: 12,
            left: [search(`SEARCH('{${METRICS_NAMESPACE},function_name,service} MetricName="${METRIC.coldStart}"', 'Sum', 60)`, '')],
          }),
          new cloudwatch.GraphWidget({
            title: 'Tail init and compute (ms)',
            width: 12,
            left: [emf(METRIC.initMs, 'p50', 'tail'), emf(METRIC.initMs, 'p99', 'tail'), emf(METRIC.computeMs, 'p50', 'tail'), emf(METRIC.computeMs, 'p99', 'tail')],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Bytes in and out',
            width: 12,
            left: (['tail', 'planner'] as const).flatMap((s) => [emf(METRIC.bytesIn, 'Sum', s), emf(METRIC.bytesOut, 'Sum', s)]),
          }),
          new cloudwatch.GraphWidget({
            title: '4xx / 5xx answered by the functions',
            width: 12,
            left: (['tail', 'planner'] as const).flatMap((s) => [emf(METRIC.clientErrors, 'Sum', s), emf(METRIC.serverErrors, 'Sum', s)]),
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Throttles (429): Lambda per function, and the API',
            width: 12,
            left: [search(`SEARCH('{AWS/Lambda,FunctionName} MetricName="Throttles" FunctionName="${props.functionPrefix}"', 'Sum', 60)`, '')],
            right: [apiMetric('4xx'), apiMetric('5xx')],
          }),
        ],
        // an alarm status widget shows at most 100 alarms
        ...chunks(alarms, 100).map((part, i) => [
          new cloudwatch.AlarmStatusWidget({ title: `Alarms: throttles and errors of every function${i ? ` (${i + 1})` : ''}`, width: 24, alarms: part }),
        ]),
      ],
    });
  }
}
