/**
 * `loom evaluate <model>`: model analysis outside a pipeline. Evaluates a registered
 * version (name@alias or name@version) against a baseline version on a dataset version or
 * a data file, prints the metric table, the slices and the blessing, and records the
 * evaluation (with its model card) as an execution in the metadata store.
 *
 * Usage: `loom evaluate flights@3 --baseline champion --slice hour --slice origin:top10 --json`
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import { evaluationConfig, TIME_BUCKETS, type EvaluationConfigInput } from '../../evaluate/config.js';
import { evaluateRegisteredModel, type RegisteredEvaluation } from '../../evaluate/evaluate-registered.js';
import { parseOptions } from '../options.js';
import { printJson, printTable, progressFor, statusLogger } from '../output.js';
import { withProject } from '../project.js';

const evaluateOptions = z.object({
  baseline: z.string().min(1).optional(),
  data: z.string().min(1).optional(),
  split: z.string().min(1).optional(),
  label: z.string().min(1).optional(),
  slice: z.array(z.string().min(1)).default([]),
  fairness: z.array(z.string().min(1)).default([]),
  config: z.string().min(1).optional(),
  resamples: z.coerce.number().int().min(0).max(10_000).optional(),
  json: z.boolean().optional(),
});

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a registered model version: metrics, slices, fairness, thresholds, blessing and a model card')
    .argument('<model>', 'name@alias or name@version, e.g. flights@champion or flights@3')
    .option('--baseline <alias|version>', 'compare with this version of the same model ("none" for no baseline; default: champion unless it is the model)')
    .option('--data <version|file>', 'a dataset version (content hash or prefix, or #artifact-id) or a Parquet/CSV file (default: the data the model was trained with)')
    .option('--split <name>', 'the split of a dataset version (default: eval)')
    .option('--label <column>', "the label column (default: the model's)")
    .option('--slice <spec>', 'slice by a feature: origin, origin:top10, hour:buckets=6/12/18, distance:width=500, date:hour_of_day; cross with +, e.g. origin:top5+hour (repeatable)', collect)
    .option('--fairness <features>', 'sensitive features to audit, comma-separated for intersections, e.g. gender or gender,race (repeatable)', collect)
    .option('--config <file>', 'an evaluation config JSON file (thresholds, slices, fairness, bootstrap, task, ...)')
    .option('--resamples <n>', 'bootstrap resamples for confidence intervals (default 100; 0 for none)')
    .option('--json', 'print the evaluation as JSON')
    .action(async (ref: string, raw: unknown) => {
      const options = parseOptions(evaluateOptions, raw);
      const config = await buildConfig(options);
      await withProject(async (project) => {
        const log = statusLogger(options);
        const progress = progressFor(options);
        const result = await evaluateRegisteredModel({ db: project, artifacts: project.artifacts, runner: project.runner }, {
          model: ref,
          baseline: options.baseline,
          data: options.data,
          split: options.split,
          config,
          progress: { log, start: (what, rows) => progress.start(what, rows, 'rows') },
        });
        if (options.json) printJson(summary(result));
        else printEvaluation(result);
      });
    });
}

type EvaluateOptions = z.output<typeof evaluateOptions>;

/** The config file (if any) with the flags added on top, validated as one config. */
async function buildConfig(options: EvaluateOptions) {
  let base: Record<string, unknown> = {};
  if (options.config) {
    const text = await readFile(options.config, 'utf8').catch(() => {
      throw new LoomError('NOT_FOUND', `cannot read --config ${options.config}`, { field: '--config' });
    });
    try {
      base = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new LoomError('INVALID_ARGUMENT', `--config ${options.config} is not JSON: ${(error as Error).message}`, { field: '--config' });
    }
  }
  const raw: EvaluationConfigInput = {
    ...base,
    ...(options.label ? { labelColumn: options.label } : {}),
    slices: [...((base.slices as EvaluationConfigInput['slices']) ?? []), ...options.slice.map(parseSliceFlag)],
    fairness: [...((base.fairness as EvaluationConfigInput['fairness']) ?? []), ...options.fairness.map((f) => ({ features: f.split(',').map((s) => s.trim()) }))],
    ...(options.resamples !== undefined ? { bootstrap: { ...(base.bootstrap as object), resamples: options.resamples } } : {}),
  };
  return parseInput(evaluationConfig, raw, { what: 'evaluation config', fix: options.config ? `correct ${options.config} or the flags` : 'see `loom evaluate --help`' });
}

/** `origin:top10+hour:buckets=6/12/18` -> a crossed slicing spec. */
export function parseSliceFlag(flag: string): NonNullable<EvaluationConfigInput['slices']>[number] {
  const columns = flag.split('+').map((part) => {
    const [feature, modifier] = part.split(':', 2) as [string, string | undefined];
    if (!feature) throw badSlice(flag);
    if (modifier === undefined) return { feature };
    const top = /^top(\d+)$/.exec(modifier);
    if (top) return { feature, top: Number(top[1]) };
    if ((TIME_BUCKETS as readonly string[]).includes(modifier)) return { feature, time: modifier as (typeof TIME_BUCKETS)[number] };
    const buckets = /^buckets=([-\d.e/]+)$/.exec(modifier);
    if (buckets) return { feature, boundaries: buckets[1]!.split('/').map(Number) };
    const width = /^width=([\d.e]+)$/.exec(modifier);
    if (width) return { feature, width: Number(width[1]) };
    throw badSlice(flag);
  });
  return { columns };
}

function badSlice(flag: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', `--slice "${flag}" is not a slice`, {
    field: '--slice',
    fix: `write feature, feature:topN, feature:buckets=a/b/c, feature:width=W or feature:${TIME_BUCKETS.join('|')}; join features with + to cross them`,
  });
}

function summary(result: RegisteredEvaluation) {
  return {
    model: { name: result.model.modelName, version: result.model.version },
    baseline: result.baseline ? { name: result.baseline.modelName, version: result.baseline.version } : null,
    executionId: result.executionId,
    evaluation: { artifactId: result.evaluation.id, uri: result.evaluation.uri },
    blessingArtifact: { artifactId: result.blessing.id, uri: result.blessing.uri },
    ...result.report,
  };
}

function printEvaluation(result: RegisteredEvaluation): void {
  const { report } = result;
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toFixed(4));
  out(`${result.model.modelName} version ${result.model.version}${result.baseline ? ` vs baseline version ${result.baseline.version}` : ''} on ${report.context.data.split} of dataset ${String(report.context.data.contentHash).slice(0, 12)} (${report.rowCount} rows)\n`);
  printTable(
    ['metric', 'value', `${Math.round(report.config.bootstrap.confidence * 100)}% interval`, ...(report.baselineMetrics ? ['baseline'] : [])],
    Object.entries(report.metrics).map(([name, value]) => {
      const ci = report.confidenceIntervals[name];
      return [name, fmt(value), ci ? `[${fmt(ci.lower)}, ${fmt(ci.upper)}]` : '', ...(report.baselineMetrics ? [fmt(report.baselineMetrics[name])] : [])];
    }),
  );
  const headline = report.task === 'binary' ? ['auc', 'log_loss', 'accuracy'] : report.task === 'multiclass' ? ['accuracy', 'macro_f1', 'log_loss'] : ['rmse', 'mae', 'r2'];
  for (const spec of [...new Set(report.slices.map((s) => s.spec))]) {
    out(`\nslices by ${spec}:`);
    printTable(
      ['slice', 'examples', ...headline, ''],
      report.slices.filter((s) => s.spec === spec).map((s) => [s.key, s.exampleCount, ...headline.map((m) => fmt(s.metrics[m])), s.small ? 'small' : '']),
    );
  }
  const checks = report.thresholds as { metric: string; target: string; kind: string; passed: boolean | null }[];
  const failed = checks.filter((c) => c.passed === false);
  if (failed.length > 0) {
    out('\nfailed thresholds:');
    printTable(['metric', 'on', 'kind'], failed.map((c) => [c.metric, c.target, c.kind]));
  }
  out(`\n${report.blessing.reason}`);
  out(`model card: ${result.evaluation.uri} (model_card.md, model_card.html); execution ${result.executionId}`);
}
