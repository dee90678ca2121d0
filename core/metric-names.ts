/**
 * The names under which the functions publish their metrics (EMF), shared by
 * the handlers and the CDK dashboard without loading Powertools into the CDK app.
 */

/** CloudWatch namespace of every offload metric. */
export const METRICS_NAMESPACE = 'offload';

/** The metric names the functions emit (and the dashboard reads). */
export const METRIC = Object.freeze({
  coldStart: 'ColdStart',
  initMs: 'InitMs',
  computeMs: 'ComputeMs',
  bytesIn: 'BytesIn',
  bytesOut: 'BytesOut',
  clientErrors: 'ClientErrors',
  serverErrors: 'ServerErrors',
  /** Planner prewarm Invokes accepted, and refused or unanswered (planner, with prewarm on). */
  prewarmSent: 'PrewarmSent',
  prewarmFailed: 'PrewarmFailed',
});
