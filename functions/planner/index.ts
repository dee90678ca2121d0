/**
 * Planner function: `POST /plan` and `GET /models`. All logic lives in
 * functions/commons (planner.ts, scenario.ts, model-catalog.ts, registry.ts).
 */
import { createPlannerHandler, PlannerRuntime } from '../commons/planner';

export const handler = createPlannerHandler(new PlannerRuntime());
