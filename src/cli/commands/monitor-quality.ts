/**
 * `loom monitor quality <model> [--window hourly|daily|requests:N] [--from T] [--to T] [--json]`:
 * a served binary classifier's quality per window: estimated from its scores (CBPE) for
 * every prediction, measured on the predictions whose label has arrived, and the offline
 * evaluation's figure of the same version beside them; per slice of the evaluation's specs.
 *
 * Usage: `registerMonitorQualityCommand(monitorGroup)` (the `loom monitor` group registers it).
 */
import type { Command } from 'commander';
import { LoomError } from '../../core/errors.js';
import { onlineQuality, qualityHistoryRows, type QualityReport } from '../../monitor/quality-run.js';
import { ESTIMATED_METRICS } from '../../monitor/cbpe.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { parseOptions } from '../options.js';
import { printJson, printTable } from '../output.js';
import { withProject } from '../project.js';
import { monitorOptionsSchema, withMonitorOptions } from './monitor.js';

export function registerMonitorQualityCommand(monitor: Command): void {
  withMonitorOptions(monitor.command('quality').description('estimated (before labels) and measured (after) quality per window, beside the offline evaluation; binary classifiers')).action(
    async (ref: string, raw: unknown) => {
      const options = parseOptions(monitorOptionsSchema, raw);
      if (options.role) throw new LoomError('INVALID_ARGUMENT', 'quality is of the answers clients received (primary and canary rows of the version)', { field: 'role', fix: 'name the version instead: flights@3' });
      await withProject(async (project) => {
        const report = await onlineQuality(project, predictionLogLocation(project.config), { ref, window: options.window, from: options.from, to: options.to });
        // Kept, as drift is, so the figures can be charted and alert rules can watch them.
        await project.monitorHistory.recordQuality(qualityHistoryRows(report, options.window));
        if (options.json) printJson(report);
        else printQuality(report);
      });
    },
  );
}

const METRICS = ESTIMATED_METRICS;

function printQuality(report: QualityReport): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`${report.model} version ${report.version}: estimated from scores${report.calibrated ? ' (calibrated on' : ' (checked against'} the ${report.evaluation.split} split, ${report.evaluation.rows} rows, threshold ${report.evaluation.threshold})`);
  if (report.windows.length === 0) out('no logged predictions in the range');
  const fmt = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(3));
  printTable(
    ['window start', 'rows', 'labelled', ...METRICS.map((m) => `${m} est/meas/offline`)],
    report.windows.map((w) => [
      new Date(w.start).toISOString(),
      w.rows,
      w.labelled,
      ...METRICS.map((m) => `${fmt(w.estimated[m])} / ${fmt(w.measured?.[m])} / ${fmt(w.offline?.[m])}`),
    ]),
  );
  const slices = report.windows.flatMap((w) => w.slices.filter((s) => s.measured).map((s) => [new Date(w.start).toISOString(), s.key, s.labelled, ...METRICS.map((m) => `${fmt(s.measured?.[m])} / ${fmt(s.offline?.[m])}`)]));
  if (slices.length > 0) {
    out('\nslices (measured / offline):');
    printTable(['window start', 'slice', 'labelled', ...METRICS], slices);
  }
  if (report.multiRowRequests > 0) out(`\n${report.multiRowRequests} requests carried several rows: their labels cannot name a row and are not joined`);
}
