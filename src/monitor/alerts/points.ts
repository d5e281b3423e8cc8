/**
 * A rule's metric over its windows, read from the monitoring history (what `loom monitor`
 * recorded): the figure of one feature against training, the previous window or the
 * predictions, or an estimated or measured quality metric (`loom monitor quality`), in the
 * rule's window kind, oldest first, across the versions served then.
 * A window whose figure could not be computed (no value) is left out rather than read as 0.
 * A test's recorded value is its p-value (KS, χ²), so it is also the point's `pValue`, which is
 * what a `pValueBelow` rule reads; such a rule on a distance (which has no p-value) is refused.
 *
 * Usage: `const points = await historyPoints(platform.monitorHistory, rule);`
 */
import { LoomError } from '../../core/errors.js';
import { isPValueMeasure } from '../../validate/drift.js';
import type { MonitorHistoryStore } from '../history-store.js';
import type { MetricPoint } from './evaluate.js';
import { METRIC, QUALITY_METRIC, type AlertRule } from './rules.js';

/** The history's name for a rule's window kind. */
export function windowKindOf(window: AlertRule['window']): string {
  return typeof window === 'string' ? window : `requests:${window.requests}`;
}

export async function historyPoints(history: MonitorHistoryStore, rule: AlertRule): Promise<MetricPoint[]> {
  const kind = windowKindOf(rule.window);
  const quality = QUALITY_METRIC.exec(rule.metric);
  if (quality) {
    const [, estimatedOrMeasured, metric] = quality;
    return (await history.qualityHistory({ model: rule.model }))
      .filter((row) => row.windowKind === kind && row.kind === estimatedOrMeasured && row.metric === metric && row.value !== null)
      .map((row) => ({ windowStart: row.start, windowEnd: row.end, modelVersion: row.version, value: row.value! }));
  }
  const [, against, feature, measure] = METRIC.exec(rule.metric)!;
  const rows = (await history.driftHistory({ model: rule.model })).filter(
    (row) => row.windowKind === kind && row.against === against && row.feature === feature && (measure === undefined || row.measure === measure),
  );
  const measures = new Set(rows.map((row) => row.measure));
  if (measures.size > 1) {
    throw new LoomError('INVALID_ARGUMENT', `rule "${rule.name}": ${rule.metric} has several measures (${[...measures].join(', ')})`, {
      field: 'metric',
      fix: `name one: ${rule.metric}.${[...measures][0]}`,
    });
  }
  const measured = rows.filter((row) => row.value !== null);
  const distance = measured.find((row) => !isPValueMeasure(row.measure));
  if ('pValueBelow' in rule.when && distance) {
    throw new LoomError('INVALID_ARGUMENT', `rule "${rule.name}": ${rule.metric} is measured by ${distance.measure}, a distance with no p-value`, {
      field: 'when.pValueBelow',
      fix: `watch a test (${rule.metric.split('.').slice(0, 3).join('.')}.ks) or use "above" with a distance threshold`,
    });
  }
  return measured.map((row) => ({
    windowStart: row.start,
    windowEnd: row.end,
    modelVersion: row.version,
    value: row.value!,
    ...(isPValueMeasure(row.measure) && { pValue: row.value! }),
  }));
}
