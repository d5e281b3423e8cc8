/**
 * Fairness of a binary classifier's decisions across groups of a sensitive feature (or
 * the intersection of several): per-group rates and the disparities between groups, as
 * Fairlearn's `MetricFrame` and `fairlearn.metrics` report them (method
 * "between_groups", agg "worst_case"). `test/python/fairlearn_metrics.py` checks the
 * numbers against Fairlearn on the CPS wages data.
 *
 * Usage: `fairnessReport(labels, decisions, groupOfRow)`
 */
import { LoomError } from '../core/errors.js';
import { checkLengths, type Values } from './binary-metrics.js';

/** Fairlearn's per-group metrics, over hard 0/1 decisions. */
export interface GroupRates {
  count: number;
  /** Share of rows predicted positive (`selection_rate`). */
  selection_rate: number;
  /** Recall of the positives; 0 when the group has none, as Fairlearn (sklearn's normalised confusion matrix) gives. */
  true_positive_rate: number;
  /** Share of negatives predicted positive; 0 when the group has none. */
  false_positive_rate: number;
  accuracy: number;
}

export interface Disparities {
  /** max - min of the groups' selection rates. */
  demographic_parity_difference: number;
  /** min / max of the groups' selection rates. */
  demographic_parity_ratio: number;
  /** The larger of the TPR difference and the FPR difference. */
  equalized_odds_difference: number;
  /** The smaller of the TPR ratio and the FPR ratio. */
  equalized_odds_ratio: number;
  /** max - min of the groups' true positive rates. */
  equal_opportunity_difference: number;
  equal_opportunity_ratio: number;
}

export const DISPARITY_METRICS = [
  'demographic_parity_difference',
  'demographic_parity_ratio',
  'equalized_odds_difference',
  'equalized_odds_ratio',
  'equal_opportunity_difference',
  'equal_opportunity_ratio',
] as const satisfies readonly (keyof Disparities)[];

export interface FairnessReport {
  overall: GroupRates;
  /** By group name (for several features, the values joined by ", " in feature order), sorted by name. */
  byGroup: Record<string, GroupRates>;
  disparities: Disparities;
}

/** Per-group rates and disparities; `groups[i]` names row i's group. */
export function fairnessReport(labels: Values, decisions: Values, groups: readonly string[]): FairnessReport {
  checkLengths(decisions, labels);
  if (groups.length !== labels.length) {
    throw new LoomError('INVALID_ARGUMENT', `${groups.length} group names for ${labels.length} rows: they must be as many`);
  }
  const rowsByGroup = new Map<string, number[]>();
  groups.forEach((group, i) => {
    const rows = rowsByGroup.get(group);
    if (rows) rows.push(i);
    else rowsByGroup.set(group, [i]);
  });
  const byGroup: Record<string, GroupRates> = {};
  for (const name of [...rowsByGroup.keys()].sort()) byGroup[name] = groupRates(labels, decisions, rowsByGroup.get(name)!);
  const rates = Object.values(byGroup);
  const spread = (metric: keyof GroupRates) => {
    const values = rates.map((r) => r[metric]);
    const max = Math.max(...values);
    const min = Math.min(...values);
    // 0 / 0 is NaN, as pandas gives Fairlearn; a positive min over a 0 max cannot happen.
    return { difference: max - min, ratio: min / max };
  };
  const selection = spread('selection_rate');
  const tpr = spread('true_positive_rate');
  const fpr = spread('false_positive_rate');
  return {
    overall: groupRates(labels, decisions, Array.from({ length: labels.length }, (_, i) => i)),
    byGroup,
    disparities: {
      demographic_parity_difference: selection.difference,
      demographic_parity_ratio: selection.ratio,
      equalized_odds_difference: Math.max(tpr.difference, fpr.difference),
      equalized_odds_ratio: Math.min(tpr.ratio, fpr.ratio),
      equal_opportunity_difference: tpr.difference,
      equal_opportunity_ratio: tpr.ratio,
    },
  };
}

function groupRates(labels: Values, decisions: Values, rows: readonly number[]): GroupRates {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (const i of rows) {
    const positive = decisions[i] === 1;
    if (labels[i] === 1) {
      if (positive) tp++;
      else fn++;
    } else if (positive) fp++;
    else tn++;
  }
  const count = rows.length;
  return {
    count,
    selection_rate: count > 0 ? (tp + fp) / count : Number.NaN,
    true_positive_rate: tp + fn > 0 ? tp / (tp + fn) : 0,
    false_positive_rate: fp + tn > 0 ? fp / (fp + tn) : 0,
    accuracy: count > 0 ? (tp + tn) / count : Number.NaN,
  };
}
