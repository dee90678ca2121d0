/**
 * Logs and metrics with Powertools for AWS Lambda (TypeScript): one Logger
 * per process (structured JSON; with {@link observe} every line carries the
 * request id, the function name and the cold-start flag) and one Metrics
 * object per function, flushed as CloudWatch Embedded Metric Format (EMF) on
 * stdout after each invocation — CloudWatch turns those lines into metrics,
 * no API call and no extra permission needed.
 *
 * Metrics, namespace `offload`, dimension `service` (`tail` or `planner`):
 * - `ColdStart` (Count, also by `function_name`): Powertools' own, once per environment;
 * - `InitMs` (tail, on the cold request): the environment's Init phase;
 * - `ComputeMs` (tail): predict + read-back of one request;
 * - `BytesIn`, `BytesOut`: request and response bodies as delivered;
 * - `ClientErrors`, `ServerErrors`: 4xx and 5xx answers the function gave;
 * - `PrewarmSent`, `PrewarmFailed` (planner, prewarm on): tail prewarm Invokes accepted or not.
 * Throttles (429s) never reach a handler — Lambda or API Gateway answer them —
 * so they come from `AWS/Lambda Throttles` and `AWS/ApiGateway 4xx` (the
 * dashboard in cdk/constructs/dashboard.ts shows them beside these).
 */
import type { Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 as HttpEvent, APIGatewayProxyStructuredResultV2 as HttpResult } from 'aws-lambda'; // http.ts's aliases; importing them from there would be a cycle

import { METRIC, METRICS_NAMESPACE } from '../../core/metric-names';

export { METRIC, METRICS_NAMESPACE };

/** The process's logger: JSON lines with level, message, timestamp, service and the fields given. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'offload' });

/** A function's metrics (one per process), under {@link METRICS_NAMESPACE} with a `service` dimension. */
export function createMetrics(service: 'tail' | 'planner'): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
}

export { MetricUnit };

type Middleware = MiddlewareObj<HttpEvent, HttpResult, Error, Context>;

/**
 * The outermost middlewares of a handler, in order: request context on every
 * log line (reset after each invocation), then metrics — `ColdStart` on the
 * first invocation, bytes in and out and the error classes of every answer,
 * flushed after the error handler has set the response.
 *
 * @example
 * middy().use(observe(metrics)).use(httpErrors()).handler(…)
 */
export function observe(metrics: Metrics): Middleware[] {
  const count = (request: { event: HttpEvent; response: HttpResult | null }): void => {
    const status = request.response?.statusCode ?? 0;
    metrics.addMetric(METRIC.bytesIn, MetricUnit.Bytes, request.event.body?.length ?? 0);
    metrics.addMetric(METRIC.bytesOut, MetricUnit.Bytes, request.response?.body?.length ?? 0);
    if (status >= 500) metrics.addMetric(METRIC.serverErrors, MetricUnit.Count, 1);
    else if (status >= 400) metrics.addMetric(METRIC.clientErrors, MetricUnit.Count, 1);
  };
  return [
    injectLambdaContext(logger, { resetKeys: true }) as Middleware,
    logMetrics(metrics, { captureColdStartMetric: true, throwOnEmptyMetrics: false }) as Middleware,
    // Runs after (inside) the metrics flush in middy's reverse order, so its figures go out with this invocation.
    { name: 'countResponses', after: count, onError: count },
  ];
}
