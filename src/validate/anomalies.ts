/**
 * Anomalies: where a dataset's statistics break the schema. Pure: statistics and a
 * schema in, a report out; the validate component only reads and writes the artifacts.
 *
 * Unseen categories are counted from the statistics' rank histogram (the up to 1000 most
 * frequent values), not from the 20 top values: whenever a split has at most 1000
 * distinct values of a feature the count is exact. Past that, the values outside the
 * histogram are unknown; the report then gives a lower bound (every distinct value beyond
 * the domain's size is unseen and has at least one row) and says so.
 *
 * Usage: `const report = findAnomalies(evalStats, schema, { split: 'eval' }); console.log(formatAnomalyReport(report))`
 */
import type { Schema, SchemaFeature } from './schema.js';
import type { DatasetStatistics, FeatureStatistics, ValueCount } from './statistics.js';

export const ANOMALY_TYPES = ['MISSING_COLUMN', 'NEW_COLUMN', 'TYPE_CHANGE', 'UNSEEN_CATEGORY', 'MISSING_VALUES', 'OUT_OF_RANGE'] as const;
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
};

export type AnomalyReport = {
  version: 1;
  /** The split the statistics describe, when known. */
  split?: string;
  rowCount: number;
  errorCount: number;
  warningCount: number;
  /** Errors first, then warnings; each in schema order, new columns last. */
  anomalies: Anomaly[];
};

export interface FindAnomaliesOptions {
  /** Named in the report. */
  split?: string;
}

const LISTED_UNSEEN = 20;

/** Checks statistics against a schema. */
export function findAnomalies(stats: DatasetStatistics, schema: Schema, options: FindAnomaliesOptions = {}): AnomalyReport {
  const byName = new Map(stats.features.map((f) => [f.name, f]));
  const anomalies: Anomaly[] = [];
  for (const feature of schema.features) {
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
    if (feature.required && stat.missing > 0) {
      anomalies.push(
        anomaly('MISSING_VALUES', feature.name, 'ERROR', 'missing values', `"${feature.name}" is required but ${stat.missing} of ${stats.rowCount} rows (${percent(stat.missing / stats.rowCount)}) have no value`),
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
  const errors = anomalies.filter((a) => a.severity === 'ERROR');
  const warnings = anomalies.filter((a) => a.severity === 'WARNING');
  return {
    version: 1,
    ...(options.split === undefined ? {} : { split: options.split }),
    rowCount: stats.rowCount,
    errorCount: errors.length,
    warningCount: warnings.length,
    anomalies: [...errors, ...warnings],
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
