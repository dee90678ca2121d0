import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { REGISTRY_KEYS } from '../../core/registry-keys';

/**
 * The fleet registry: one item per tail execution environment.
 *
 * Key design: partition key `fn` = `<model>#<cut>` (one partition per tail
 * function), sort key `instance`. A tail's policy can then be limited with
 * `dynamodb:LeadingKeys` to its own function's items, which a partition key
 * of `model` could not do (LeadingKeys only sees the partition key). The GSI
 * `byModel` (partition `model`, sort `fn`, all attributes) gives the planner a
 * model's whole fleet in one query.
 *
 * On-demand billing (traffic follows inference requests, two small writes
 * per invocation), TTL on `expiresAt` (epoch seconds) so reaped instances
 * disappear, no point-in-time recovery and destroyed with the stack: the table
 * holds seconds-old liveness state that rebuilds itself as instances start.
 */
export class Registry extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: REGISTRY_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: REGISTRY_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: REGISTRY_KEYS.ttlAttribute,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: REGISTRY_KEYS.modelIndex,
      partitionKey: { name: REGISTRY_KEYS.modelAttribute, type: dynamodb.AttributeType.STRING },
      sortKey: { name: REGISTRY_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'Fleet registry table' });
  }

  /** A tail's writes, limited to the items whose partition key is `fnKey` (`<model>#<cut>`). */
  ownItemsStatement(fnKey: string): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [this.table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [fnKey] } },
    });
  }

  /** The planner's reads: queries of the table and of the `byModel` index. */
  readStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions: ['dynamodb:Query', 'dynamodb:GetItem'],
      resources: [this.table.tableArn, `${this.table.tableArn}/index/${REGISTRY_KEYS.modelIndex}`],
    });
  }
}
