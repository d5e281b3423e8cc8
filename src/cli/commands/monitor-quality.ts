/**
 * `loom monitor quality <model> [--window hourly|daily|<N>] [--from T] [--to T] [--json]`:
 * a served binary classifier's quality per window: estimated from its scores (CBPE) for
 * every prediction, measured on the predictions whose label has arrived, and the offline
 * evaluation's figure of the same version beside them; per slice of the evaluation's specs.
 *
 * Usage: `registerMonitorQualityCommand(monitorGroup)` (the `loom monitor` group registers it).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { PredictionLogLocation } from '../../monitor/prediction-log-reader.js';
import { onlineQuality, type QualityReport } from '../../monitor/quality-run.js';
import type { WindowSpec } from '../../monitor/windows.js';
import type { Platform } from '../../platform/platform.js';
import { parseOptions } from '../options.js';
import { printJson, printTable } from '../output.js';
import { withProject } from '../project.js';

const time = z
  .string()
  .transform((s) => (/^\d+$/.test(s) ? Number(s) : Date.parse(s)))
  .refine((ms) => Number.isFinite(ms), 'a time: epoch milliseconds or ISO-8601 (2001-02-01T00:00:00Z)');

const qualityOptions = z.object({
  window: z
    .string()
    .default('daily')
    .transform((w, ctx): WindowSpec => {
      if (w === 'hourly' || w === 'daily') return { kind: w };
      if (/^\d+$/.test(w) && Number(w) > 0) return { kind: 'requests', size: Number(w) };
      ctx.addIssue({ code: 'custom', message: 'hourly, daily, or a number of requests' });
      return z.NEVER;
    }),
  from: time.optional(),
  to: time.optional(),
  json: z.boolean().optional(),
});

/** Where a project's prediction log is, on its backend. */
export function predictionLogLocation(project: Platform): PredictionLogLocation {
  const { database } = project.config;
  return database.url.startsWith('postgres') ? { kind: 'postgres', url: database.url, schema: database.schema } : { kind: 'parquet', dir: project.layout.predictions };
}

export function registerMonitorQualityCommand(monitor: Command): void {
  monitor
    .command('quality')
    .description('estimated (before labels) and measured (after) quality per window, beside the offline evaluation; binary classifiers')
    .argument('<model>', 'name, name@alias or name@version (default alias: champion)')
    .option('--window <w>', 'hourly, daily, or a number of requests', 'daily')
    .option('--from <time>', 'first logged time (epoch ms or ISO-8601)')
    .option('--to <time>', 'end of the range, exclusive')
    .option('--json', 'print JSON')
    .action(async (ref: string, raw: unknown) => {
      const options = parseOptions(qualityOptions, raw);
      await withProject(async (project) => {
        const report = await onlineQuality(project, predictionLogLocation(project), { ref, window: options.window, from: options.from, to: options.to });
        if (options.json) printJson(report);
        else printQuality(report);
      });
    });
}

const METRICS = ['auc', 'accuracy', 'precision', 'recall', 'f1'] as const;

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
