/**
 * Anomalies: where a dataset's statistics break the schema (TFDV's validate_statistics).
 * Pure: statistics and a schema in (plus, optionally, the previous span's statistics for
 * drift and serving statistics for skew), a report out; the validate component and
 * `loom data validate` only read and write the artifacts.
 *
 * Environments: a feature whose `notInEnvironment` lists the environment being validated
 * (e.g. the label in SERVING) is not expected, so its absence is no anomaly.
 * Presence counts nulls only; NaN and ±inf are reported as NAN_OR_INF for FLOAT features
 * that do not `allowNonFinite`.
 *
 * Unseen categories are counted from the statistics' rank histogram (the up to 1000 most
 * frequent values), not from the 20 top values: whenever a split has at most 1000
 * distinct values of a feature the count is exact. Past that, the values outside the
 * histogram are unknown; the report then gives a lower bound (every distinct value beyond
 * the domain's size is unseen and has at least one row) and says so.
 *
 * Usage: `const report = findAnomalies(evalStats, schema, { split: 'eval' }); console.log(formatAnomalyReport(report))`
 */
import { LoomError } from '../core/errors.js';
import { compareStatistics, type FeatureComparison } from './drift.js';
import { DEFAULT_ENVIRONMENTS, type Schema, type SchemaFeature } from './schema.js';
import type { DatasetStatistics, FeatureStatistics, ValueCount } from './statistics.js';

export const ANOMALY_TYPES = [
  'MISSING_COLUMN',
  'NEW_COLUMN',
  'TYPE_CHANGE',
  'UNSEEN_CATEGORY',
  'MISSING_VALUES',
  'OUT_OF_RANGE',
  'NAN_OR_INF',
  'ROW_COUNT',
  'DRIFT',
  'SKEW',
] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];
export const SEVERITIES = ['ERROR', 'WARNING'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type Anomaly = {
  type: AnomalyType;
  feature: string;
  severity: Severity;
  /** A few words, e.g. "unseen categories". */
  short: string;
  /** The whole story, with the numbers. */
  long: string;
  /** UNSEEN_CATEGORY: values outside the domain with their row counts, most frequent first (at most 20). */
  unseenValues?: ValueCount[];
  /** UNSEEN_CATEGORY: share of all rows holding a value outside the domain (a lower bound when `exact` is false). */
  unseenShare?: number;
  /** UNSEEN_CATEGORY: whether every value of the split could be checked. */
  exact?: boolean;
  /** DRIFT and SKEW: the measurement. */
  comparison?: FeatureComparison;
};

/** The `feature` of anomalies about the whole dataset (ROW_COUNT). */
export const DATASET = '(dataset)';

export type AnomalyReport = {
  version: 1;
  /** The split the statistics describe, when known. */
  split?: string;
  rowCount: number;
  errorCount: number;
  warningCount: number;
  /** The environment validated for, when given. */
  environment?: string;
  /** Errors first, then warnings; each in schema order, new columns, drift and skew last. */
  anomalies: Anomaly[];
  /** Every drift measurement (against `previous`), exceeded or not. */
  drift?: FeatureComparison[];
  /** Every skew measurement (against `serving`), exceeded or not. */
  skew?: FeatureComparison[];
};

export interface FindAnomaliesOptions {
  /** Named in the report. */
  split?: string;
  /** e.g. TRAINING or SERVING; must be one of the schema's environments. */
  environment?: string;
  /** Statistics of the previous span: drift is measured against them. */
  previous?: DatasetStatistics;
  /** Statistics of serving data: their skew is measured against these (training) statistics. */
  serving?: DatasetStatistics;
}

const LISTED_UNSEEN = 20;

/** Checks statistics against a schema. */
export function findAnomalies(stats: DatasetStatistics, schema: Schema, options: FindAnomaliesOptions = {}): AnomalyReport {
  const environment = options.environment;
  const environments = schema.environments ?? DEFAULT_ENVIRONMENTS;
  if (environment !== undefined && !environments.includes(environment)) {
    throw new LoomError('INVALID_ARGUMENT', `environment "${environment}" is not one of the schema's environments: ${environments.join(', ')}`, {
      field: 'environment',
      fix: `use one of ${environments.join(', ')}, or add it to "environments" in the schema`,
    });
  }
  const byName = new Map(stats.features.map((f) => [f.name, f]));
  const anomalies: Anomaly[] = [];
  const bounds = schema.rowCount;
  if (bounds && ((bounds.min !== undefined && stats.rowCount < bounds.min) || (bounds.max !== undefined && stats.rowCount > bounds.max))) {
    const range = `${bounds.min ?? 0}..${bounds.max ?? '∞'}`;
    anomalies.push(anomaly('ROW_COUNT', DATASET, 'ERROR', 'row count out of bounds', `the data has ${stats.rowCount} rows, outside the schema's bounds ${range}`));
  }
  for (const feature of schema.features) {
    if (environment !== undefined && feature.notInEnvironment?.includes(environment)) continue;
    const stat = byName.get(feature.name);
    if (!stat) {
      anomalies.push(anomaly('MISSING_COLUMN', feature.name, 'ERROR', 'column missing', `"${feature.name}" is in the schema but not in the data`));
      continue;
    }
    if (!typeFits(stat.type, feature.type)) {
      anomalies.push(
        anomaly('TYPE_CHANGE', feature.name, 'ERROR', 'type changed', `"${feature.name}" is ${feature.type} in the schema but ${stat.type} (${stat.sqlType}) in the data`),
      );
      continue; // the other checks assume the schema's type
    }
    const nonFinite = stat.numeric ? stat.numeric.nan + stat.numeric.posInf + stat.numeric.negInf : 0;
    const nulls = stat.missing - nonFinite;
    const presence = stats.rowCount > 0 ? (stats.rowCount - nulls) / stats.rowCount : 1;
    if (feature.required && nulls > 0) {
      anomalies.push(
        anomaly('MISSING_VALUES', feature.name, 'ERROR', 'missing values', `"${feature.name}" is required but ${nulls} of ${stats.rowCount} rows (${percent(nulls / stats.rowCount)}) have no value`),
      );
    } else if (feature.minFraction !== undefined && presence < feature.minFraction) {
      anomalies.push(
        anomaly('MISSING_VALUES', feature.name, 'ERROR', 'presence below minimum', `"${feature.name}" has a value in ${percent(presence)} of ${stats.rowCount} rows, below the schema's minFraction ${percent(feature.minFraction)}`),
      );
    }
    if (stat.type === 'FLOAT' && stat.numeric && nonFinite > 0 && !feature.allowNonFinite) {
      const { nan, posInf, negInf } = stat.numeric;
      anomalies.push(
        anomaly('NAN_OR_INF', feature.name, 'ERROR', 'NaN or infinite values', `"${feature.name}" has ${nan} NaN, ${posInf} +Infinity and ${negInf} -Infinity values; set "allowNonFinite": true if they are expected`),
      );
    }
    const range = feature.range;
    if (range && stat.numeric && stat.count > 0 && (stat.numeric.min < range.min || stat.numeric.max > range.max)) {
      anomalies.push(
        anomaly('OUT_OF_RANGE', feature.name, 'ERROR', 'out of range', `"${feature.name}" ranges from ${stat.numeric.min} to ${stat.numeric.max}, outside the schema's range ${range.min}..${range.max}`),
      );
    }
    const unseen = unseenCategory(feature, stat, stats.rowCount);
    if (unseen) anomalies.push(unseen);
  }
  const known = new Set(schema.features.map((f) => f.name));
  for (const stat of stats.features) {
    if (known.has(stat.name)) continue;
    anomalies.push(
      anomaly('NEW_COLUMN', stat.name, 'WARNING', 'new column', `"${stat.name}" (${stat.type}) is in the data but not in the schema, so it is not validated; add it to the schema`),
    );
  }
  const drift = options.previous ? compareStatistics(stats, options.previous, schema, 'drift', environment) : undefined;
  // Skew: serving data measured against these training statistics as the reference.
  const skew = options.serving ? compareStatistics(options.serving, stats, schema, 'skew', environment) : undefined;
  for (const c of [...(drift ?? []), ...(skew ?? [])]) {
    if (!c.exceeded) continue;
    const against = c.kind === 'drift' ? 'the previous span' : 'serving data';
    const bound = c.measure === 'ks' || c.measure === 'chi_squared' ? `p-value ${format(c.value)} is below ${c.threshold}` : `${format(c.value)} is above the threshold ${c.threshold}`;
    anomalies.push({
      ...anomaly(c.kind === 'drift' ? 'DRIFT' : 'SKEW', c.feature, 'ERROR', `${c.kind} (${c.measure})`, `"${c.feature}" differs from ${against}: ${c.measure} ${bound}`),
      comparison: c,
    });
  }
  const errors = anomalies.filter((a) => a.severity === 'ERROR');
  const warnings = anomalies.filter((a) => a.severity === 'WARNING');
  return {
    version: 1,
    ...(options.split === undefined ? {} : { split: options.split }),
    ...(environment === undefined ? {} : { environment }),
    rowCount: stats.rowCount,
    errorCount: errors.length,
    warningCount: warnings.length,
    anomalies: [...errors, ...warnings],
    ...(drift ? { drift } : {}),
    ...(skew ? { skew } : {}),
  };
}

/** The report as text for people: one line per anomaly under a summary line. */
export function formatAnomalyReport(report: AnomalyReport): string {
  const where = report.split === undefined ? 'data' : `split "${report.split}"`;
  if (report.anomalies.length === 0) return `${where}: no anomalies in ${report.rowCount} rows`;
  const lines = [`${where}: ${plural(report.errorCount, 'error')}, ${plural(report.warningCount, 'warning')} in ${report.rowCount} rows`];
  for (const a of report.anomalies) {
    lines.push(`  ${a.severity.padEnd(7)} ${a.type.padEnd(15)} ${a.feature}: ${a.long}`);
  }
  return lines.join('\n');
}

/** The drift and skew measurements as text: one line per feature. */
export function formatComparisons(comparisons: FeatureComparison[]): string {
  return comparisons
    .map((c) => {
      const statistic = c.statistic !== undefined ? `statistic ${format(c.statistic)}` : c.bounds ? `statistic in [${format(c.bounds.statistic[0])}, ${format(c.bounds.statistic[1])}]` : (c.note ?? '');
      const test = c.measure === 'ks' || c.measure === 'chi_squared' ? ` (p-value; ${statistic})` : '';
      const value = c.inconclusive && c.bounds ? `${format(c.bounds.value[0])}..${format(c.bounds.value[1])}` : format(c.value);
      return `  ${c.kind.padEnd(5)} ${c.feature.padEnd(20)} ${c.measure.padEnd(14)} ${value.padStart(10)}${test}  threshold ${c.threshold}  ${c.inconclusive ? 'INCONCLUSIVE' : c.exceeded ? 'EXCEEDED' : 'ok'}`;
    })
    .join('\n');
}

function format(value: number): string {
  return Math.abs(value) >= 1e-3 || value === 0 ? value.toFixed(4) : value.toExponential(2);
}

/** Integers fit a FLOAT feature (a CSV column may read as either); nothing else converts. */
function typeFits(actual: FeatureStatistics['type'], expected: SchemaFeature['type']): boolean {
  return actual === expected || (actual === 'INT' && expected === 'FLOAT');
}

function unseenCategory(feature: SchemaFeature, stat: FeatureStatistics, rowCount: number): Anomaly | undefined {
  if (!feature.domain || !stat.string) return undefined;
  const domain = new Set(feature.domain);
  const { rankHistogram, unique } = stat.string;
  const listed = rankHistogram.filter((v) => !domain.has(v.value));
  const exact = rankHistogram.length >= unique;
  // Values past the histogram: at least (unique - |domain|) distinct values are unseen in all.
  const unlisted = exact ? 0 : Math.max(0, unique - domain.size - listed.length);
  if (listed.length === 0 && unlisted === 0) return undefined;
  const rows = listed.reduce((sum, v) => sum + v.count, 0) + unlisted;
  const share = rowCount > 0 ? rows / rowCount : 0;
  const severity: Severity = share > feature.maxUnseenShare ? 'ERROR' : 'WARNING';
  const shown = listed.slice(0, LISTED_UNSEEN);
  const values = shown.map((v) => `${JSON.stringify(v.value)} (${v.count})`).join(', ');
  const distinct = listed.length + unlisted;
  const count = `${exact ? '' : 'at least '}${plural(distinct, 'value')} of "${feature.name}" ${distinct === 1 ? 'is' : 'are'}`;
  const more = listed.length > shown.length ? `, and ${listed.length - shown.length} more` : '';
  const caveat = exact ? '' : `; only the ${rankHistogram.length} most frequent of ${unique} values could be checked`;
  return {
    ...anomaly(
      'UNSEEN_CATEGORY',
      feature.name,
      severity,
      'unseen categories',
      `${count} not in its domain, on ${exact ? '' : 'at least '}${percent(share)} of rows (tolerated: ${percent(feature.maxUnseenShare)})` +
        `${values ? `: ${values}${more}` : ''}${caveat}`,
    ),
    unseenValues: shown,
    unseenShare: share,
    exact,
  };
}

function anomaly(type: AnomalyType, feature: string, severity: Severity, short: string, long: string): Anomaly {
  return { type, feature, severity, short, long };
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.001 && share > 0 ? 3 : 2)}%`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
