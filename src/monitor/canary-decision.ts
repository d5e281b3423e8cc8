/**
 * The canary decision, the pure core: a new version served beside the primary on a share
 * of the traffic is promoted or rolled back on its own online quality against the
 * primary's over the same window. Measured quality (the labelled rows) is compared when
 * both sides have at least `minLabelled` labels, else the quality CBPE estimates from the
 * scores; the canary passes when its figure is no worse than the primary's by more than
 * `tolerance`. With too little canary traffic (`minRows`) nothing is decided: the canary
 * stays and the decision says why.
 *
 * Usage: `const decision = decideCanary(primary, canary, canaryPolicy.parse({ metric: 'auc' }));`
 */
import { z } from 'zod';
import { ESTIMATED_METRICS } from './cbpe.js';

export const canaryPolicy = z.strictObject({
  /** The online metric compared (the evaluation's names). */
  metric: z.enum(ESTIMATED_METRICS).default('auc'),
  /** Labelled rows each side needs before measured quality is compared instead of estimated. */
  minLabelled: z.number().int().positive().default(200),
  /** Rows the canary must have answered before anything is decided. */
  minRows: z.number().int().positive().default(200),
  /** How much worse than the primary the canary may be and still pass (absolute, in the metric's units). */
  tolerance: z.number().min(0).max(1).default(0.01),
});
export type CanaryPolicy = z.output<typeof canaryPolicy>;

/** A figure per metric; null where it could not be computed (no positive prediction for precision). */
export type QualityFigures = Record<(typeof ESTIMATED_METRICS)[number], number | null>;

/** One side's online quality over the decision's window (a version and the role it served in). */
export interface SideQuality {
  version: number;
  rows: number;
  labelled: number;
  /** Estimated from the scores (CBPE) on every row. */
  estimated: QualityFigures;
  /** On the labelled rows; null while none has a label. */
  measured: QualityFigures | null;
}

export type CanaryOutcome = 'promote' | 'rollback' | 'hold';

export interface CanaryDecision {
  outcome: CanaryOutcome;
  /** Which figures were compared: measured on labels, or estimated from the scores. */
  basis: 'measured' | 'estimated' | 'none';
  metric: string;
  primaryValue: number | null;
  canaryValue: number | null;
  reason: string;
}

export function decideCanary(primary: SideQuality, canary: SideQuality, policy: CanaryPolicy): CanaryDecision {
  const { metric, tolerance } = policy;
  const none = (reason: string): CanaryDecision => ({ outcome: 'hold', basis: 'none', metric, primaryValue: null, canaryValue: null, reason });
  if (canary.rows < policy.minRows) return none(`the canary (v${canary.version}) answered ${canary.rows} requests, fewer than the ${policy.minRows} a decision needs`);
  if (primary.rows === 0) return none(`the primary (v${primary.version}) answered no request in the window: nothing to compare with`);
  const measured = primary.labelled >= policy.minLabelled && canary.labelled >= policy.minLabelled && primary.measured !== null && canary.measured !== null;
  const basis = measured ? 'measured' : 'estimated';
  const primaryValue = measured ? primary.measured![metric] : primary.estimated[metric];
  const canaryValue = measured ? canary.measured![metric] : canary.estimated[metric];
  const figures = `${basis} ${metric}: canary v${canary.version} ${fixed(canaryValue)} vs primary v${primary.version} ${fixed(primaryValue)}`;
  const labels = `labelled ${canary.labelled}/${canary.rows} canary, ${primary.labelled}/${primary.rows} primary`;
  if (primaryValue === null || canaryValue === null || !Number.isFinite(primaryValue) || !Number.isFinite(canaryValue)) {
    return { outcome: 'hold', basis, metric, primaryValue: finite(primaryValue), canaryValue: finite(canaryValue), reason: `${figures} cannot be compared (${labels})` };
  }
  const passes = canaryValue >= primaryValue - tolerance;
  return {
    outcome: passes ? 'promote' : 'rollback',
    basis,
    metric,
    primaryValue,
    canaryValue,
    reason: `${figures}, tolerance ${tolerance} (${labels}): ${passes ? 'no worse, promoted' : 'worse, rolled back'}`,
  };
}

function fixed(value: number | null): string {
  return value !== null && Number.isFinite(value) ? value.toFixed(4) : 'n/a';
}

function finite(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}
