/**
 * `loom track ls | show | compare | watch`: experiment tracking from the terminal (the
 * runs MLflow clients and pipeline training steps log). `loom runs` stays the pipeline runs' command.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { compareRuns } from '../../tracking/compare.js';
import { sparkline } from '../../tracking/sparkline.js';
import { requireRun, type TrackingStore } from '../../tracking/store.js';
import type { Metric, Run } from '../../tracking/types.js';
import { watchRun, type WatchUpdate } from '../../tracking/watch.js';
import { parseOptions } from '../options.js';
import { formatDuration, formatTable, formatTime, printJson, printTable } from '../output.js';
import { withProject } from '../project.js';

const lsOptions = z.object({
  experiment: z.string().min(1).optional(),
  filter: z.string().optional(),
  orderBy: z.string().optional(),
  max: z.coerce.number().int().min(1).max(50_000).default(100),
  json: z.boolean().optional(),
});
const jsonOnly = z.object({ json: z.boolean().optional() });
const watchOptions = z.object({ interval: z.coerce.number().int().min(50).max(60_000).default(1000), json: z.boolean().optional() });

const formatValue = (v: number | null) => (v === null ? '' : Number.isInteger(v) ? String(v) : Number(v.toPrecision(5)).toString());

async function experimentIds(tracking: TrackingStore, name: string | undefined): Promise<string[]> {
  if (name) {
    const experiment = await tracking.getExperimentByName(name);
    if (!experiment) throw new LoomError('NOT_FOUND', `no experiment named "${name}"`, { field: '--experiment', fix: 'omit --experiment to list runs of every experiment' });
    return [experiment.experimentId];
  }
  return (await tracking.searchExperiments({ maxResults: 50_000 })).items.map((e) => e.experimentId);
}

function metricSummary(run: Run, max = 4): string {
  return run.data.metrics.slice(0, max).map((m) => `${m.key}=${formatValue(m.value)}`).join(' ') + (run.data.metrics.length > max ? ' …' : '');
}

export function registerTrackCommands(program: Command): void {
  const track = program.command('track').description('experiment tracking: runs, params and metrics (MLflow-compatible)');
  track
    .command('ls')
    .description('list tracking runs, newest first')
    .option('--experiment <name>', 'only runs of this experiment')
    .option('--filter <filter>', `MLflow filter, e.g. "metrics.auc > 0.6 and params.lr = '0.1'"`)
    .option('--order-by <key>', 'e.g. "metrics.auc DESC"')
    .option('--max <n>', 'most runs to list', '100')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(lsOptions, raw);
      await withProject(async (db) => {
        const ids = await experimentIds(db.tracking, options.experiment);
        const page = await db.tracking.searchRuns({ experimentIds: ids, filter: options.filter, orderBy: options.orderBy ? [options.orderBy] : undefined, maxResults: options.max });
        if (options.json) return printJson(page);
        if (page.items.length === 0) return void process.stdout.write('no tracking runs match: training steps and MLflow clients (`loom server`) log them\n');
        printTable(['run id', 'exp', 'name', 'status', 'started', 'duration', 'metrics'], page.items.map((r) => [
          r.info.runId, r.info.experimentId, r.info.runName, r.info.status, formatTime(r.info.startTime),
          r.info.endTime ? formatDuration(r.info.endTime - r.info.startTime) : '', metricSummary(r),
        ]));
      });
    });
  track
    .command('show')
    .description("a run's status, params, latest metrics and tags")
    .argument('<run id>', 'the run id (32 hex characters)')
    .option('--json', 'print JSON')
    .action(async (runId: string, raw: unknown) => {
      const options = parseOptions(jsonOnly, raw);
      await withProject(async (db) => {
        const run = await requireRun(db.tracking, runId, 'run id');
        if (options.json) return printJson(run);
        const { info, data } = run;
        process.stdout.write(`run ${info.runId} (${info.runName}) in experiment ${info.experimentId}: ${info.status}\n`);
        process.stdout.write(`started ${formatTime(info.startTime)}${info.endTime ? `, ended ${formatTime(info.endTime)}` : ''}; artifacts at ${info.artifactUri}\n\n`);
        const sections: [string, string[], unknown[][]][] = [
          ['params', ['param', 'value'], Object.entries(data.params)],
          ['metrics', ['metric', 'latest', 'step'], data.metrics.map((m) => [m.key, formatValue(m.value), m.step])],
          ['tags', ['tag', 'value'], Object.entries(data.tags)],
        ];
        for (const [name, headers, rows] of sections) {
          if (rows.length === 0) process.stdout.write(`no ${name}\n\n`);
          else process.stdout.write(`${formatTable(headers, rows)}\n\n`);
        }
      });
    });
  track
    .command('compare')
    .description('params and latest metrics of runs side by side (* marks values that differ)')
    .argument('<run ids...>', 'two or more run ids')
    .option('--json', 'print JSON')
    .action(async (runIds: string[], raw: unknown) => {
      const options = parseOptions(jsonOnly, raw);
      await withProject(async (db) => {
        const runs = [];
        for (const id of runIds) runs.push(await requireRun(db.tracking, id, 'run id'));
        const comparison = compareRuns(runs);
        if (options.json) return printJson(comparison);
        const headers = ['', ...runs.map((r) => `${r.info.runName} (${r.info.runId.slice(0, 8)})`)];
        const mark = (key: string, differs: boolean) => `${differs ? '* ' : '  '}${key}`;
        printTable(headers, [
          ['  status', ...runs.map((r) => r.info.status)],
          ...comparison.params.map((row) => [mark(`params.${row.key}`, row.differs), ...row.values.map((v) => v ?? '')]),
          ...comparison.metrics.map((row) => [mark(`metrics.${row.key}`, row.differs), ...row.values.map(formatValue)]),
        ]);
      });
    });
  track
    .command('watch')
    .description("follow a run's metrics as it trains, until it ends (curves on a terminal; lines otherwise)")
    .argument('<run id>', 'the run id (32 hex characters)')
    .option('--interval <ms>', 'how often to poll', '1000')
    .option('--json', 'print one JSON line per metric point, then one with the final status')
    .action(async (runId: string, raw: unknown) => {
      const options = parseOptions(watchOptions, raw);
      await withProject(async (db) => {
        await requireRun(db.tracking, runId, 'run id');
        const abort = new AbortController();
        const stop = () => abort.abort();
        process.once('SIGINT', stop);
        const tty = !options.json && process.stdout.isTTY === true;
        try {
          for await (const update of watchRun(db.tracking, runId, { intervalMs: options.interval, signal: abort.signal })) {
            if (options.json) printJsonLines(update);
            else if (tty) redraw(update);
            else printLines(update);
          }
        } finally {
          process.off('SIGINT', stop);
        }
      });
    });
}

function printJsonLines(update: WatchUpdate): void {
  for (const m of update.newPoints) process.stdout.write(`${JSON.stringify({ runId: update.run.info.runId, ...m, value: Number.isFinite(m.value) ? m.value : String(m.value) })}\n`);
  if (update.ended) process.stdout.write(`${JSON.stringify({ runId: update.run.info.runId, status: update.run.info.status, endTime: update.run.info.endTime })}\n`);
}

function printLines(update: WatchUpdate): void {
  const byStep = new Map<number, Metric[]>();
  for (const m of update.newPoints) byStep.set(m.step, [...(byStep.get(m.step) ?? []), m]);
  for (const [step, points] of byStep) process.stdout.write(`step ${step} ${points.map((m) => `${m.key}=${formatValue(m.value)}`).join(' ')}\n`);
  if (update.ended) process.stdout.write(`run ${update.run.info.runId} ${update.run.info.status}\n`);
}

/** Clears the terminal and draws every metric's latest value and curve. */
function redraw(update: WatchUpdate): void {
  const { info } = update.run;
  const width = Math.max(10, Math.min(60, (process.stdout.columns ?? 80) - 50));
  const rows = [...update.history].sort(([a], [b]) => a.localeCompare(b)).map(([key, points]) => {
    const last = points.at(-1);
    return [key, last ? formatValue(last.value) : '', last?.step ?? '', sparkline(points.map((p) => p.value), width)];
  });
  const elapsed = formatDuration((info.endTime ?? Date.now()) - info.startTime);
  const table = rows.length ? formatTable(['metric', 'latest', 'step', 'curve'], rows) : 'no metrics logged yet';
  process.stdout.write(`\x1b[2J\x1b[H${info.runName} (${info.runId}) ${info.status} ${elapsed}\n\n${table}\n${update.ended ? '' : '\n(ctrl-c stops watching; the run goes on)\n'}`);
}
