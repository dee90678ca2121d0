/**
 * Catalog entries of tail functions for planner tests, named and routed by the
 * one rule the CDK app uses (core/planner.ts `defaultFunctionName`,
 * core/catalog.ts `inferRoute`).
 */
import { inferRoute, type CatalogTail } from '../core/catalog';
import { defaultFunctionName } from '../core/planner';

/** One on-demand tail of `model` per cut, at 1,769 MB and a 30 s timeout. */
export function catalogTails(model: string, cuts: readonly number[], reservedConcurrency: number): CatalogTail[] {
  return cuts.map((cut) => ({
    cut,
    function: defaultFunctionName(model, cut),
    route: inferRoute(model, cut),
    memoryMB: 1769,
    timeoutSeconds: 30,
    reservedConcurrency,
    provisionedConcurrency: 0,
  }));
}
