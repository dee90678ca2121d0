/**
 * The one home of the fleet registry's key contract: the attribute and index
 * names the CDK table (cdk/constructs/registry.ts), the tails' writes and the
 * planner's reads (functions/commons/registry.ts) and the tails' IAM scope
 * (cdk/constructs/tail-fleet.ts) must agree on. The local stack reads them
 * from the synthesized template, so it agrees by construction.
 * test/health/contracts.test.ts fails if shipped code spells them again.
 */
export const REGISTRY_KEYS = {
  /** Partition key: {@link fleetKey} `<model>#<cut>`, one partition per tail function (IAM `dynamodb:LeadingKeys` limits a tail to it). */
  partitionKey: 'fn',
  /** Sort key: the execution environment's id. */
  sortKey: 'instance',
  /** The GSI that gives the planner a model's whole fleet in one query (partition {@link REGISTRY_KEYS.modelAttribute}, sort {@link REGISTRY_KEYS.partitionKey}). */
  modelIndex: 'byModel',
  /** The model name, partition key of {@link REGISTRY_KEYS.modelIndex}. */
  modelAttribute: 'model',
  /** Epoch SECONDS after which DynamoDB may delete the item (the table's TTL attribute). */
  ttlAttribute: 'expiresAt',
} as const;

/** The registry partition key of the tail function of (model, cut). */
export function fleetKey(model: string, cut: number): string {
  return `${model}#${cut}`;
}

/** The primary key of one execution environment's item. */
export function registryItemKey(model: string, cut: number, instance: string): Record<string, string> {
  return { [REGISTRY_KEYS.partitionKey]: fleetKey(model, cut), [REGISTRY_KEYS.sortKey]: instance };
}
