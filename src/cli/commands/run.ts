/** `loom run <pipeline file>`, `loom runs`, `loom runs show <id>`. */
import type { Command } from 'commander';
import { z } from 'zod';
import { readCodeVersion } from '../../pipeline/code-version.js';
import type { Pipeline } from '../../pipeline/dsl.js';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import { runPipeline, type PipelineRunResult } from '../../pipeline/orchestrator.js';
import { listPipelineRuns, showPipelineRun, type PipelineRunStores } from '../../queries/pipeline-runs.js';
import { parseOptions } from '../options.js';
import { formatDuration, formatTime, printJson, printTable, progressFor, statusLogger, type OutputOptions } from '../output.js';
import { withProject, type Project } from '../project.js';
import { dirname, resolve } from 'node:path';
import { registerRerunCommand } from './runs-rerun.js';

const runOptions = z.object({
  json: z.boolean().optional(),
  parallel: z.coerce.number().int().min(1).max(64).default(2),
});

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run a pipeline file: every step is cached, retried and recorded')
    .argument('<pipeline-file>', 'a .ts or .js file whose default export is a pipeline')
    .option('--parallel <n>', 'steps to run at once', '2')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, raw: unknown) => {
      const options = parseOptions(runOptions, raw);
      const pipeline = await loadPipelineFile(file);
      const result = await withProject((project) => runAndReport(project, pipeline, { ...options, codeDir: dirname(resolve(file)), pipelineFile: resolve(file) }), { create: true });
      if (result.failure) throw result.failure.error;
    });

  const runs = program.command('runs').description('list pipeline runs').option('--limit <n>', 'runs to show', '20').option('--json', 'print JSON');
  runs.action(async (raw: unknown) => {
    const options = parseOptions(z.object({ json: z.boolean().optional(), limit: z.coerce.number().int().min(1).max(1000) }), raw);
    await withProject(async (db) => listRuns(db, options));
  });
  registerRerunCommand(runs);
  runs
    .command('show')
    .description('show one run: its steps, their states, timings and outputs')
    .argument('<run-id>', 'a run id from `loom runs`')
    .option('--json', 'print JSON')
    .action(async (id: string, raw: unknown) => {
      const options = parseOptions(z.object({ json: z.boolean().optional() }), raw);
      await withProject(async (db) => showRun(db, id, options));
    });
}

/** Runs a pipeline in a project and prints its summary; shared by `loom run` and `loom demo`. */
export async function runAndReport(
  project: Project,
  pipeline: Pipeline,
  options: OutputOptions & { parallel?: number; codeDir?: string; quietSummary?: boolean; pipelineFile?: string; resumeFrom?: Record<string, string>; warmStartFrom?: string },
): Promise<PipelineRunResult> {
  const result = await runPipeline(pipeline, {
    runner: project.runner,
    checkpointRoot: project.layout.checkpoints,
    pipelineFile: options.pipelineFile,
    resumeFrom: options.resumeFrom,
    warmStartFrom: options.warmStartFrom,
    codeVersion: readCodeVersion(options.codeDir ?? process.cwd()),
    progress: progressFor(options),
    log: statusLogger(options),
    maxParallel: options.parallel,
  });
  if (options.quietSummary) return result;
  if (options.json) printJson(runResultJson(result));
  else printRunResult(result);
  return result;
}

/** A finished run as `loom run` prints it: its state, a table of steps, and the failed step's error. */
export function printRunResult(result: PipelineRunResult): void {
  process.stdout.write(`\nrun ${result.runId}: ${result.state}\n`);
  printTable(
    ['step', 'component', 'state', 'time', 'outputs'],
    result.steps.map((s) => [s.step, s.component, s.state, formatDuration(s.durationMs), Object.values(s.outputs).map((a) => `${a.typeName}#${a.id}`).join(' ')]),
  );
  if (result.failure) process.stdout.write(`\nstep "${result.failure.step}" failed:\n${result.failure.error.describe()}\n`);
}

/** A finished run as `loom run --json` prints it. */
export function runResultJson(result: PipelineRunResult) {
  return {
    runId: result.runId,
    state: result.state,
    steps: result.steps.map((s) => ({
      step: s.step,
      component: s.component,
      state: s.state,
      executionId: s.executionId,
      durationMs: s.durationMs,
      outputs: Object.fromEntries(Object.entries(s.outputs).map(([name, a]) => [name, { id: a.id, type: a.typeName, uri: a.uri, properties: a.properties }])),
      error: s.error?.toJSON(),
    })),
  };
}

async function listRuns(db: PipelineRunStores, options: { json?: boolean; limit: number }): Promise<void> {
  const page = await listPipelineRuns(db, options);
  if (options.json) return printJson(page);
  if (page.items.length === 0) return void process.stdout.write('no pipeline runs yet: try `loom demo` or `loom run <pipeline file>`\n');
  printTable(['run', 'pipeline', 'state', 'started', 'time'], page.items.map((s) => [s.runId, s.pipeline, s.state, formatTime(s.startedAt), formatDuration(s.endedAt && s.startedAt ? s.endedAt - s.startedAt : null)]));
}

async function showRun(db: PipelineRunStores, runId: string, options: { json?: boolean }): Promise<void> {
  const { run: summary, steps } = await showPipelineRun(db, runId);
  if (options.json) return printJson({ run: summary, steps });
  process.stdout.write(`run ${summary.runId} (${summary.pipeline}): ${summary.state}, started ${formatTime(summary.startedAt)}\n\n`);
  printTable(
    ['exec', 'step', 'state', 'tries', 'time', 'outputs'],
    steps.map((s) => [s.executionId, s.step, s.state, s.attempts, formatDuration(s.durationMs), s.outputs.map((o) => `${o.name}=${o.artifact?.typeName}#${o.artifact?.id}`).join(' ')]),
  );
  for (const s of steps.filter((s) => s.error || s.reason)) process.stdout.write(`\n${s.step}: ${s.error ?? s.reason}\n`);
}
