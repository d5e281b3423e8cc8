/**
 * `loom monitor status|windows|drift <model>`: the served version's live traffic (its
 * prediction log) in windows, compared with its training data and with the window before.
 * `--json` prints the same figures as JSON (no progress); /metrics exposes the drift
 * figures as gauges on `loom server` (monitor/metrics.ts). Other monitor commands register on the
 * group this returns (`monitorCommandOptions` parses the shared options).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { driftRows, historyRows, monitorVersion, type MonitorReport } from '../../monitor/monitor.js';
import { PREDICTION_ROLES } from '../../monitor/prediction-log-reader.js';
import type { WindowSpec } from '../../monitor/windows.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { parseModelRef, resolveModelVersion } from '../../registry/model-ref.js';
import { parseOptions } from '../options.js';
import { formatTime, printJson, printTable, progressFor } from '../output.js';
import { withProject, type Project } from '../project.js';

/** The most requests a window of N requests may hold. */
const MAX_WINDOW_REQUESTS = 1_000_000_000;

const windowSpec = z
  .string()
  .transform((text, ctx): WindowSpec => {
    if (text === 'hourly' || text === 'daily') return { kind: text };
    const size = /^requests:(\d+)$/.exec(text)?.[1];
    // Past a billion rows a window is the whole log (and the number stops being exact for SQL).
    if (size && Number(size) > 0 && Number(size) <= MAX_WINDOW_REQUESTS) return { kind: 'requests', size: Number(size) };
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a window: use hourly, daily or requests:N, N from 1 to ${MAX_WINDOW_REQUESTS} (e.g. requests:10000)` });
    return z.NEVER;
  });
const time = z
  .string()
  .transform((text, ctx) => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) ctx.addIssue({ code: 'custom', message: `"${text}" is not a time: write it like 2026-01-05 or 2026-01-05T10:00:00Z` });
    return ms;
  });

/** The options every monitor command shares; a range must end after it starts. */
export const monitorOptionsSchema = z
  .object({
    window: windowSpec,
    from: time.optional(),
    to: time.optional(),
    role: z
      .string()
      .transform((text) => text.split(',').map((r) => r.trim()))
      .pipe(z.array(z.enum(PREDICTION_ROLES)))
      .optional(),
    json: z.boolean().optional(),
  })
  .refine((o) => o.from === undefined || o.to === undefined || o.from < o.to, { path: ['from'], message: 'the range is empty: --from must be before --to' });
export type MonitorOptions = z.output<typeof monitorOptionsSchema>;

/** Adds the shared arguments and options to a monitor subcommand. */
export function withMonitorOptions(command: Command): Command {
  return command
    .argument('<model>', 'name@alias or name@version, e.g. flights@champion')
    .option('--window <window>', 'hourly, daily or requests:N', 'daily')
    .option('--from <time>', 'first time to read (ISO 8601, UTC)')
    .option('--to <time>', 'time to stop before (ISO 8601, UTC)')
    .option('--role <roles>', `comma-separated roles (${PREDICTION_ROLES.join(', ')}); default all`)
    .option('--json', 'print JSON');
}

/** Runs one monitoring pass for the model the reference resolves to. */
export async function monitorReport(project: Project, ref: string, options: MonitorOptions): Promise<MonitorReport> {
  const version = await resolveModelVersion(parseModelRef(ref), project.registry);
  return monitorVersion(
    { metadata: project.metadata, registry: project.registry, artifacts: project.artifacts, location: predictionLogLocation(project.config), duckdb: project.config.duckdb, monitorFits: project.monitorFits },
    {
      model: version.modelName,
      version: version.version,
      window: options.window,
      ...(options.role && { roles: options.role }),
      ...(options.from !== undefined && { from: options.from }),
      ...(options.to !== undefined && { to: options.to }),
      progress: progressFor(options),
    },
  );
}

export function registerMonitorCommands(program: Command): Command {
  const group = program.command('monitor').description("watch a served model's live traffic: windows, drift against training and over time");
  withMonitorOptions(group.command('status').description('the latest window: rows, features drifted, multivariate drift, unreadable log files')).action(
    (ref: string, raw: unknown) => run(ref, raw, printStatus, (report) => statusOf(report)),
  );
  withMonitorOptions(group.command('windows').description('every window: rows, time span, multivariate drift and out-of-domain shares')).action((ref: string, raw: unknown) =>
    run(ref, raw, printWindows, (report) => ({ ...report, windows: report.windows.map(({ statistics, ...w }) => ({ ...w, features: statistics.features.map(summary) })) })),
  );
  withMonitorOptions(group.command('drift').description('every drift figure: each feature against training and the previous window, and the predictions')).action((ref: string, raw: unknown) =>
    run(ref, raw, (report) => printDrift(report), (report) => ({ model: report.model, version: report.version, window: report.window, drift: driftRows(report) })),
  );
  return group;
}

async function run(ref: string, raw: unknown, print: (report: MonitorReport) => void, json: (report: MonitorReport) => unknown): Promise<void> {
  const options = parseOptions(monitorOptionsSchema, raw);
  await withProject(async (project) => {
    const report = await monitorReport(project, ref, options);
    // Kept, so the figures can be charted and queried later without re-reading the log.
    await project.monitorHistory.recordDrift(historyRows(report));
    if (options.json) printJson(json(report));
    else print(report);
  });
}

function statusOf(report: MonitorReport) {
  const last = report.windows.at(-1);
  return {
    model: report.model,
    version: report.version,
    windows: report.windows.length,
    rows: report.windows.reduce((sum, w) => sum + w.rows, 0),
    skipped: report.skipped,
    latest: last
      ? {
          index: last.index,
          start: last.start,
          end: last.end,
          rows: last.rows,
          driftedAgainstTraining: last.training.filter((c) => c.exceeded).map((c) => c.feature),
          driftedAgainstPrevious: last.previous.filter((c) => c.exceeded).map((c) => c.feature),
          predictionDrift: last.prediction.some((c) => c.exceeded),
          multivariate: last.multivariate ?? null,
        }
      : null,
  };
}

function summary(f: MonitorReport['windows'][number]['statistics']['features'][number]) {
  return {
    name: f.name,
    type: f.type,
    count: f.count,
    missing: f.missing,
    ...(f.numeric && { mean: f.numeric.mean, std: f.numeric.std, min: f.numeric.min, max: f.numeric.max, median: f.numeric.median }),
    ...(f.string && { unique: f.string.unique, top: f.string.topValues.slice(0, 5) }),
  };
}

const out = (line = '') => process.stdout.write(`${line}\n`);

function printSkipped(report: MonitorReport): void {
  for (const s of report.skipped) process.stderr.write(`skipped unreadable log file ${s.file}: ${s.reason}\n`);
}

function printStatus(report: MonitorReport): void {
  printSkipped(report);
  const status = statusOf(report);
  out(`${report.model} version ${report.version}: ${status.rows} logged predictions in ${status.windows} windows`);
  const last = status.latest;
  if (!last) {
    out('no predictions logged for this version yet');
    return;
  }
  out(`latest window ${last.index}: ${formatTime(last.start)} .. ${formatTime(last.end)}, ${last.rows} rows`);
  out(`  drift against training: ${last.driftedAgainstTraining.join(', ') || 'none'}`);
  out(`  drift against the previous window: ${last.driftedAgainstPrevious.join(', ') || 'none'}`);
  out(`  prediction drift: ${last.predictionDrift ? 'yes' : 'no'}`);
  if (last.multivariate) out(`  multivariate (PCA reconstruction error): ${fmt(last.multivariate.error)} in [${fmt(last.multivariate.lower)}, ${fmt(last.multivariate.upper)}]${last.multivariate.alert ? '  ALERT' : ''}`);
}

function printWindows(report: MonitorReport): void {
  printSkipped(report);
  printTable(
    ['window', 'start', 'end', 'rows', 'drifted (training)', 'drifted (previous)', 'PCA error', 'out of domain'],
    report.windows.map((w) => [
      w.index,
      formatTime(w.start),
      formatTime(w.end),
      w.rows,
      w.training.filter((c) => c.exceeded).length,
      w.previous.filter((c) => c.exceeded).length,
      w.multivariate ? `${fmt(w.multivariate.error)}${w.multivariate.alert ? ' ALERT' : ''}` : '-',
      w.outOfDomain.filter((o) => o.count > 0).map((o) => `${o.feature} ${(o.share * 100).toFixed(2)}%`).join(' ') || '-',
    ]),
  );
}

function printDrift(report: MonitorReport): void {
  printSkipped(report);
  printTable(
    ['window', 'against', 'feature', 'measure', 'value', 'threshold', ''],
    driftRows(report).map((r) => [r.window, r.against, r.feature, r.measure, r.value === null ? 'inconclusive' : fmt(r.value), r.threshold, r.exceeded ? 'DRIFT' : 'ok']),
  );
}

function fmt(value: number): string {
  return Math.abs(value) >= 1e-3 || value === 0 ? value.toFixed(4) : value.toExponential(2);
}
