/**
 * Thresholds and the blessing: TFMA's model validation. Each configured threshold is
 * judged on the overall metrics or on every slice of a spec (small slices are skipped),
 * value thresholds against bounds and change thresholds against the baseline's metric on
 * the same rows; the model is blessed when none fails. Pure: numbers in, verdicts out.
 *
 * Usage: `const checks = checkThresholds(config.thresholds, targets); const blessing = decideBlessing(checks, hasBaseline);`
 */
import { thresholdDirection, type MetricThreshold } from './config.js';

/** What a threshold is judged on: a named set of metrics, and the baseline's on the same rows. */
export interface ThresholdTarget {
  /** `overall`, a slice key (`origin:ATL`) or a fairness spec name. */
  name: string;
  metrics: Readonly<Record<string, number>>;
  baselineMetrics?: Readonly<Record<string, number>>;
  /** A small slice is reported but not judged. */
  small?: boolean;
}

export interface ThresholdCheck {
  metric: string;
  /** The slice (or `overall`, or the fairness spec) judged. */
  target: string;
  kind: 'value' | 'change';
  /** true passed, false failed, null not judged (small slice, or no baseline for a change threshold). */
  passed: boolean | null;
  candidate: number;
  baseline?: number;
  /** One sentence with the numbers. */
  reason: string;
}

/** The content of `blessing.json`. `blessed` and `reason` are what push reads. */
export interface Blessing {
  blessed: boolean;
  reason: string;
  passed: number;
  failed: number;
  skipped: number;
  /** The reasons of the failed checks. */
  failures: string[];
}

/**
 * Judges one threshold on each target. Change thresholds follow TFMA: with higher-is-better
 * the candidate passes when `candidate - baseline >= absolute` (and `(candidate - baseline) /
 * |baseline| >= relative`); with lower-is-better the signs flip. `absolute: 0` means "not worse".
 */
export function checkThreshold(threshold: MetricThreshold, targets: readonly ThresholdTarget[]): ThresholdCheck[] {
  const checks: ThresholdCheck[] = [];
  const metric = threshold.metric;
  for (const target of targets) {
    const candidate = target.metrics[metric] ?? Number.NaN;
    const where = `${metric} on ${target.name}`;
    if (threshold.value) {
      const { lowerBound, upperBound } = threshold.value;
      const bounds = [lowerBound !== undefined ? `>= ${fmt(lowerBound)}` : '', upperBound !== undefined ? `<= ${fmt(upperBound)}` : ''].filter(Boolean).join(' and ');
      if (target.small) {
        checks.push({ metric, target: target.name, kind: 'value', passed: null, candidate, reason: `${where} not judged: the slice is smaller than minSliceSize` });
      } else {
        // NaN (a metric undefined on this data) fails every bound: nothing shows the model is fine.
        const passed = (lowerBound === undefined || candidate >= lowerBound) && (upperBound === undefined || candidate <= upperBound) && !Number.isNaN(candidate);
        checks.push({ metric, target: target.name, kind: 'value', passed, candidate, reason: `${where} is ${fmt(candidate)}, required ${bounds}` });
      }
    }
    if (threshold.change) {
      checks.push(changeCheck(threshold, target, candidate));
    }
  }
  return checks;
}

function changeCheck(threshold: MetricThreshold, target: ThresholdTarget, candidate: number): ThresholdCheck {
  const metric = threshold.metric;
  const change = threshold.change!;
  const higher = thresholdDirection(threshold) !== 'lower';
  const baseline = target.baselineMetrics?.[metric];
  const base = { metric, target: target.name, kind: 'change' as const, candidate, baseline };
  const where = `${metric} on ${target.name}`;
  if (target.small) return { ...base, passed: null, reason: `${where} not judged: the slice is smaller than minSliceSize` };
  if (!target.baselineMetrics) return { ...base, passed: null, reason: `${where} not compared: no baseline` };
  if (baseline === undefined || !Number.isFinite(baseline)) {
    return { ...base, passed: null, reason: `${where} not compared: the baseline's value is ${fmt(baseline)}` };
  }
  // Improvement in the better direction; an equal number reads as 0 improvement.
  const improvement = higher ? candidate - baseline : baseline - candidate;
  const relative = baseline !== 0 ? improvement / Math.abs(baseline) : Number.NaN;
  // A tolerance far below any meaningful margin keeps 0.70 - 0.69 >= 0.01 true in binary.
  const absoluteOk = change.absolute === undefined || improvement >= change.absolute - 1e-12;
  const relativeOk = change.relative === undefined || relative >= change.relative - 1e-12;
  const passed = Number.isFinite(candidate) && absoluteOk && relativeOk;
  const required = [
    change.absolute !== undefined ? `improvement >= ${fmt(change.absolute)}` : '',
    change.relative !== undefined ? `relative improvement >= ${fmt(change.relative)}` : '',
  ].filter(Boolean).join(' and ');
  return {
    ...base,
    passed,
    reason: `${where}: candidate ${fmt(candidate)} vs baseline ${fmt(baseline)} (improvement ${fmt(improvement)}, ${higher ? 'higher' : 'lower'} is better, required ${required})`,
  };
}

/** Blessed when no check failed. The reason names the failures, or how many checks passed. */
export function decideBlessing(checks: readonly ThresholdCheck[], hasBaseline: boolean): Blessing {
  const failed = checks.filter((c) => c.passed === false);
  const passed = checks.filter((c) => c.passed === true).length;
  const skipped = checks.filter((c) => c.passed === null).length;
  const noBaseline = hasBaseline ? '' : '; no baseline to compare with';
  if (failed.length > 0) {
    const shown = failed.slice(0, 3).map((c) => c.reason).join('; ');
    const more = failed.length > 3 ? ` (and ${failed.length - 3} more)` : '';
    return { blessed: false, reason: `not blessed: ${failed.length} of ${checks.length} threshold checks failed: ${shown}${more}`, passed, failed: failed.length, skipped, failures: failed.map((c) => c.reason) };
  }
  const summary = checks.length === 0 ? 'no thresholds configured' : `${passed} threshold checks passed${skipped ? `, ${skipped} not judged` : ''}`;
  return { blessed: true, reason: `blessed: ${summary}${noBaseline}`, passed, failed: 0, skipped, failures: [] };
}

function fmt(value: number | undefined): string {
  if (value === undefined) return 'missing';
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toPrecision(6)).toString();
}
