/**
 * The blessing rule: may a candidate model replace the current champion? Pure, so the
 * rule is tested with plain numbers and the evaluate component only adapts artifacts.
 *
 * Usage: `decideBlessing({ metrics, baselineMetrics, metric: 'auc', higherIsBetter: true, minImprovement: 0.001 })`
 */
import { LoomError } from '../core/errors.js';
import type { ComparableMetric } from './metrics.js';

export interface BlessingInput {
  metrics: Readonly<Record<string, number>>;
  /** The champion's metrics on the same rows; absent when there is no champion yet. */
  baselineMetrics?: Readonly<Record<string, number>>;
  metric: ComparableMetric;
  higherIsBetter: boolean;
  /** How much better (in the metric's own units, >= 0) the candidate must be. */
  minImprovement: number;
}

export interface Blessing {
  blessed: boolean;
  /** One sentence naming the metric and the numbers compared. */
  reason: string;
}

/** Whether the metric improves upward; log loss is the only one that improves downward. */
export function higherIsBetter(metric: ComparableMetric): boolean {
  return metric !== 'log_loss';
}

/**
 * Blessed when there is no baseline, or when the candidate improves on the baseline by at
 * least `minImprovement`. The comparison is `>=`, so with a margin of 0 a tie counts as
 * "not worse" and is blessed: retraining on fresh data with equal quality should still
 * ship the fresher model. A candidate whose metric is not a number (e.g. AUC on one class)
 * is never blessed over a baseline.
 */
export function decideBlessing(input: BlessingInput): Blessing {
  const { metric, minImprovement } = input;
  if (!(minImprovement >= 0)) {
    throw new LoomError('INVALID_ARGUMENT', `minImprovement must be a number >= 0, got ${minImprovement}`, {
      field: 'minImprovement',
    });
  }
  const candidate = input.metrics[metric];
  if (candidate === undefined) {
    throw new LoomError('INVALID_ARGUMENT', `the candidate's metrics have no "${metric}"`, { field: 'metric' });
  }
  if (!input.baselineMetrics) {
    return { blessed: true, reason: `no baseline to compare with; candidate ${metric} = ${format(candidate)}` };
  }
  const baseline = input.baselineMetrics[metric];
  if (baseline === undefined || !Number.isFinite(baseline)) {
    return { blessed: true, reason: `baseline ${metric} is not available (${format(baseline)}); candidate ${metric} = ${format(candidate)}` };
  }
  if (!Number.isFinite(candidate)) {
    return { blessed: false, reason: `candidate ${metric} is ${format(candidate)}; baseline ${metric} = ${format(baseline)}` };
  }
  const improvement = input.higherIsBetter ? candidate - baseline : baseline - candidate;
  const direction = input.higherIsBetter ? 'higher' : 'lower';
  const comparison = `candidate ${metric} ${format(candidate)} vs baseline ${format(baseline)} (improvement ${format(improvement)}, ${direction} is better, required >= ${format(minImprovement)})`;
  // An improvement equal to the margin in decimal (0.70 - 0.69 vs 0.01) can compute a hair
  // below it in binary; a tolerance far below any meaningful margin keeps that a pass.
  const blessed = improvement >= minImprovement - 1e-12;
  return { blessed, reason: `${blessed ? 'blessed' : 'not blessed'}: ${comparison}` };
}

function format(value: number | undefined): string {
  if (value === undefined) return 'missing';
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toPrecision(6)).toString();
}
