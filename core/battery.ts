/**
 * The battery rule (docs/cost-model.md §5 leaves it to us, with one requirement: lower
 * battery never yields a plan that uses more device energy).
 *
 * A request may give `battery: { level }` (0 = empty, 1 = full) instead of
 * `constraints.maxEnergyJ`. The objective stays the request's; the battery
 * becomes an energy budget:
 *
 * ```
 * base     = the cuts that pass every check except the energy budget
 * Emin     = min energyJ over base
 * Eobj     = energyJ of the cut the objective would choose from base (docs/cost-model.md §5, tie rule included)
 * w(level) = clamp((level − 0.2) / (0.8 − 0.2), 0, 1)
 * budget   = w = 1 ? Eobj : min(Eobj, Emin + w × (Eobj − Emin))
 * ```
 *
 * At or above 80 % the plan is the unconstrained one; at or below 20 % only
 * the cuts with the least device energy remain (among them the objective
 * still decides); in between the budget slides linearly.
 *
 * Why it is monotone: the budget never decreases with the level (each step
 * is a monotone floating-point operation, and the `min` caps the rounding of
 * the sum at `Eobj`), so the feasible set at a lower level is a subset of the
 * one at a higher level. Let x be the choice at the higher level. If x is still
 * feasible at the lower level it is still the choice (its rivals only got
 * fewer); otherwise its energy is above the lower budget, which the new choice
 * respects. The budget is never below Emin, so a lower level never empties a
 * set that a higher level found non-empty (which would fall back to
 * device-only, possibly using more energy). The one gap: the tie tolerance of
 * docs/cost-model.md §5 (1e-9 relative) is not transitive, so if objective values of
 * several cuts sit within ~1e-9 of each other without being equal, removing
 * the minimum can reshape the tie set; no realistic profile produces that.
 */

/** At or above this level the battery imposes no budget. */
export const BATTERY_FULL_LEVEL = 0.8;
/** At or below this level only the least-energy cuts are allowed (phones offer their power-saving mode around 20 %). */
export const BATTERY_LOW_LEVEL = 0.2;

/** w(level) ∈ [0, 1]: the share of the way from the least-energy plan to the unconstrained plan. */
export function batteryWeight(level: number): number {
  const w = (level - BATTERY_LOW_LEVEL) / (BATTERY_FULL_LEVEL - BATTERY_LOW_LEVEL);
  return w <= 0 ? 0 : w >= 1 ? 1 : w;
}

/**
 * The energy budget (J) for a battery `level`, given the least energy among
 * the otherwise-feasible cuts (`minEnergyJ`) and the energy of the objective's
 * unconstrained choice (`objectiveEnergyJ` ≥ `minEnergyJ`).
 */
export function batteryEnergyBudgetJ(level: number, minEnergyJ: number, objectiveEnergyJ: number): number {
  const w = batteryWeight(level);
  if (w >= 1) return objectiveEnergyJ;
  if (w <= 0) return minEnergyJ;
  return Math.min(objectiveEnergyJ, minEnergyJ + w * (objectiveEnergyJ - minEnergyJ));
}
