/**
 * The model analysis core (TFMA's Evaluator without Beam): given one model's predictions
 * on the evaluation rows (and the baseline's on the same rows), the feature values the
 * config slices by, and the config, computes overall metrics with bootstrap intervals,
 * plots, a metric table per slice, fairness by group, every threshold check and the
 * blessing. Pure: no files, no models, so tests call it with plain arrays.
 *
 * Usage: `const result = analyzeModel({ config, candidate, baseline, features });`
 */
import { checkThreshold, decideBlessing, type Blessing, type ThresholdCheck, type ThresholdTarget } from './blessing.js';
import { bootstrapIntervals, type ConfidenceInterval } from './bootstrap.js';
import { fairnessSpecName, slicingSpecName, type EvaluationConfig } from './config.js';
import { fairnessReport, type FairnessReport } from './fairness.js';
import { metricPlots, subset, taskMetrics, type MetricPlots, type Predictions } from './metrics.js';
import { groupNames, groupSlices } from './slices.js';

export interface AnalysisInput {
  config: EvaluationConfig;
  candidate: Predictions;
  /** The baseline model's predictions on the same rows, in the same order. */
  baseline?: Predictions;
  /** Values of the slice and fairness features, by feature, one per row. */
  features: Record<string, ArrayLike<unknown>>;
}

export interface SliceMetrics {
  spec: string;
  key: string;
  values: Record<string, string>;
  exampleCount: number;
  /** Fewer examples than minSliceSize: reported, not judged. */
  small: boolean;
  metrics: Record<string, number>;
  /** Bootstrap intervals of the slice's metrics (TFMA computes them per slice too); empty when resamples is 0. */
  confidenceIntervals: Record<string, ConfidenceInterval>;
  baselineMetrics?: Record<string, number>;
}

export interface FairnessResult {
  name: string;
  features: string[];
  decisionThreshold: number;
  report: FairnessReport;
  baselineReport?: FairnessReport;
}

export interface ModelAnalysis {
  task: Predictions['task'];
  exampleCount: number;
  metrics: Record<string, number>;
  confidenceIntervals: Record<string, ConfidenceInterval>;
  baselineMetrics?: Record<string, number>;
  plots: MetricPlots;
  slices: SliceMetrics[];
  fairness: FairnessResult[];
  thresholds: ThresholdCheck[];
  blessing: Blessing;
}

export function analyzeModel(input: AnalysisInput): ModelAnalysis {
  const { config, candidate, baseline } = input;
  const options = { threshold: config.decisionThreshold, bins: config.bins };
  const rowCount = candidate.labels.length;
  const metrics = taskMetrics(candidate, options);
  const baselineMetrics = baseline ? taskMetrics(baseline, options) : undefined;

  const slices: SliceMetrics[] = [];
  const targetsBySpec = new Map<string, ThresholdTarget[]>();
  for (const spec of config.slices) {
    const name = slicingSpecName(spec);
    const targets: ThresholdTarget[] = [];
    for (const slice of groupSlices(spec.columns, input.features, rowCount)) {
      const small = slice.rows.length < config.minSliceSize;
      const rows = subset(candidate, slice.rows);
      const sliceMetrics = taskMetrics(rows, options);
      const sliceBaseline = baseline ? taskMetrics(subset(baseline, slice.rows), options) : undefined;
      const confidenceIntervals = bootstrapIntervals(rows, config.bootstrap, options);
      slices.push({ spec: name, key: slice.key, values: slice.values, exampleCount: slice.rows.length, small, metrics: sliceMetrics, confidenceIntervals, baselineMetrics: sliceBaseline });
      targets.push({ name: slice.key, metrics: sliceMetrics, baselineMetrics: sliceBaseline, small });
    }
    targetsBySpec.set(name, targets);
  }

  const fairness: FairnessResult[] = config.fairness.map((spec) => {
    const groups = groupNames(spec.features, input.features, rowCount);
    const decide = (p: Predictions) => Float64Array.from(p.scores, (s) => (s >= config.decisionThreshold ? 1 : 0));
    return {
      name: fairnessSpecName(spec),
      features: spec.features,
      decisionThreshold: config.decisionThreshold,
      report: fairnessReport(candidate.labels, decide(candidate), groups),
      baselineReport: baseline ? fairnessReport(baseline.labels, decide(baseline), groups) : undefined,
    };
  });

  const overall: ThresholdTarget = { name: 'overall', metrics, baselineMetrics };
  const thresholds = config.thresholds.flatMap((threshold) => {
    if (threshold.fairness) {
      const result = fairness.find((f) => f.name === threshold.fairness)!;
      const disparities = (r: FairnessReport | undefined) => (r ? { ...r.disparities } : undefined);
      return checkThreshold(threshold, [{ name: result.name, metrics: disparities(result.report)!, baselineMetrics: disparities(result.baselineReport) }]);
    }
    return checkThreshold(threshold, threshold.slice ? targetsBySpec.get(threshold.slice) ?? [] : [overall]);
  });

  return {
    task: candidate.task,
    exampleCount: rowCount,
    metrics,
    confidenceIntervals: bootstrapIntervals(candidate, config.bootstrap, options),
    baselineMetrics,
    plots: metricPlots(candidate, options),
    slices,
    fairness,
    thresholds,
    blessing: decideBlessing(thresholds, baseline !== undefined),
  };
}
