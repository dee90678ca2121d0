import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { OffloadConfig } from '../config';

export interface FunctionAlarmsProps {
  fn: lambda.IFunction;
  /** The function's physical name: the alarms are named `<name>-throttles` and `<name>-errors` (the dashboard finds them by name). */
  functionName: string;
  /** Human name used in the alarm descriptions, e.g. `tail resnet50 cut 57`. */
  label: string;
  alarms: OffloadConfig['alarms'];
}

/** The names of a function's two alarms. */
export function alarmNames(functionName: string): { throttles: string; errors: string } {
  return { throttles: `${functionName}-throttles`, errors: `${functionName}-errors` };
}

/**
 * Throttles and errors alarms of one function. Throttles matter here more
 * than usual: a throttled tail means the planner's fleet view (reserved
 * concurrency as `limit`) let requests through that the function refused.
 * Missing data is "not breaching": an idle function is healthy.
 */
export class FunctionAlarms extends Construct {
  readonly throttles: cloudwatch.Alarm;
  readonly errors: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FunctionAlarmsProps) {
    super(scope, id);
    const { fn, label, alarms } = props;
    const period = Duration.seconds(alarms.periodSeconds);
    this.throttles = new cloudwatch.Alarm(this, 'Throttles', {
      alarmName: alarmNames(props.functionName).throttles,
      alarmDescription: `${label}: requests throttled (reserved concurrency exhausted)`,
      metric: fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }),
      threshold: alarms.throttles,
      evaluationPeriods: alarms.evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errors = new cloudwatch.Alarm(this, 'Errors', {
      alarmName: alarmNames(props.functionName).errors,
      alarmDescription: `${label}: invocation errors`,
      metric: fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
      threshold: alarms.errors,
      evaluationPeriods: alarms.evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (alarms.topicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'Topic', alarms.topicArn);
      this.throttles.addAlarmAction(new SnsAction(topic));
      this.errors.addAlarmAction(new SnsAction(topic));
    }
  }
}
