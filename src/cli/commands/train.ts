/**
 * `loom train --resume <run id>`: continues a pipeline run whose training failed or was
 * killed, from the train step's last checkpoint. The run's pipeline file is loaded again,
 * so a fix made to it (a lower learning rate, more patience) applies to the continued
 * training; steps before training come from the cache.
 *
 * `loom train <pipeline file> --update <model>@<alias>`: runs the pipeline with its train
 * step continuing the registered logistic regression (an incremental update on the
 * pipeline's new span) instead of starting from scratch; the earlier model is an input of
 * the new one in lineage.
 */
import type { Command } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { CHECKPOINT_FILE } from '../../core/checkpoint-files.js';
import { LoomError } from '../../core/errors.js';
import { pathExists } from '../../core/path-exists.js';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import { trainComponent } from '../../train/component.js';
import { withWarmStart } from '../../train/pipeline-overrides.js';
import { parseOptions } from '../options.js';
import { withProject, type Project } from '../project.js';
import { runAndReport } from './run.js';

const trainOptions = z
  .object({
    resume: z.string().min(1, 'give the run id to resume (from `loom runs`)').optional(),
    update: z
      .string()
      .regex(/^[^@\s]+@[^@\s]+$/, 'give the model to update as <registered model>@<alias>, e.g. flights@champion')
      .optional(),
    json: z.boolean().optional(),
  })
  .refine((o) => (o.resume === undefined) !== (o.update === undefined), { message: 'give either --resume <run id> or <pipeline file> --update <model>@<alias>', path: ['resume'] });

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description("continue a failed or killed run's training from its last checkpoint, or update a registered model on new data")
    .argument('[pipeline-file]', 'with --update: the pipeline whose train step continues the registered model')
    .option('--resume <run-id>', 'the pipeline run to continue (see `loom runs`)')
    .option('--update <model@alias>', "continue training this registered logistic regression (e.g. flights@champion) on the pipeline's data")
    .option('--json', 'print the result as JSON')
    .action(async (file: string | undefined, raw: unknown) => {
      const options = parseOptions(trainOptions, raw);
      const result = await withProject(async (project) => {
        if (options.update) {
          if (!file) throw new LoomError('INVALID_ARGUMENT', '--update needs the pipeline file to run', { field: 'pipeline-file', fix: 'loom train <pipeline file> --update flights@champion' });
          await checkUpdatable(project, options.update);
          const pipeline = withWarmStart(await loadPipelineFile(file), options.update);
          return runAndReport(project, pipeline, { json: options.json, codeDir: dirname(resolve(file)), pipelineFile: resolve(file), warmStartFrom: options.update });
        }
        const { pipelineFile, resumeFrom, warmStartFrom } = await checkpointsOf(project, options.resume as string);
        // A run started with --update continues the same registered model, so its cache key and lineage stay the update's.
        const loaded = await loadPipelineFile(pipelineFile);
        const pipeline = warmStartFrom ? withWarmStart(loaded, warmStartFrom) : loaded;
        return runAndReport(project, pipeline, { json: options.json, codeDir: dirname(pipelineFile), pipelineFile, resumeFrom, warmStartFrom });
      });
      if (result.failure) throw result.failure.error;
    });
}

/** The alias must name a version with a Loom Model artifact: otherwise the step would quietly train from scratch. */
async function checkUpdatable(project: Project, reference: string): Promise<void> {
  const [modelName, alias] = reference.split('@') as [string, string];
  const version = await project.registry.getVersionByAlias(modelName, alias);
  if (!version) {
    throw new LoomError('NOT_FOUND', `no version of "${modelName}" has the alias "${alias}"`, { field: '--update', fix: 'list versions with `loom models show <name>`, or run the pipeline with `loom run` first' });
  }
  if (version.artifactId === null) {
    throw new LoomError('FAILED_PRECONDITION', `version ${version.version} of "${modelName}" was registered from a path, without a Loom model artifact to continue`, {
      field: '--update',
      fix: 'update a version that a Loom pipeline pushed (see `loom models versions`)',
    });
  }
}

/** The run's pipeline file and, per unfinished train step, the checkpoint it left. */
async function checkpointsOf(project: Project, runId: string): Promise<{ pipelineFile: string; resumeFrom: Record<string, string>; warmStartFrom?: string }> {
  const context = await project.metadata.findContext('pipeline_run', runId);
  if (!context) throw new LoomError('NOT_FOUND', `no pipeline run "${runId}"`, { field: '--resume', fix: 'list runs with `loom runs`' });
  const pipelineFile = context.properties.pipelineFile;
  if (typeof pipelineFile !== 'string') {
    throw new LoomError('FAILED_PRECONDITION', `run "${runId}" was not started from a pipeline file, so it cannot be continued`, {
      fix: 'run the pipeline again with `loom run <file>`',
    });
  }
  const executions = (await project.metadata.listExecutions({ contextId: context.id, pageSize: 1000 })).items;
  const unfinished = executions.filter((e) => e.typeName === trainComponent.name && (e.state === 'FAILED' || e.state === 'RUNNING'));
  const resumeFrom: Record<string, string> = {};
  for (const execution of unfinished) {
    const dir = join(project.layout.checkpoints, execution.cacheKey ?? '');
    if (execution.cacheKey && (await pathExists(join(dir, CHECKPOINT_FILE)))) resumeFrom[execution.stepName] = dir;
  }
  if (Object.keys(resumeFrom).length === 0) {
    const why = unfinished.length === 0 ? 'it has no failed or interrupted train step' : 'its train step left no checkpoint (set checkpointEvery on the step)';
    throw new LoomError('FAILED_PRECONDITION', `run "${runId}" cannot be continued: ${why}`, {
      fix: 'run the pipeline again with `loom run <file>`; with checkpointEvery set, a later failure can be continued',
    });
  }
  const warmStartFrom = context.properties.warmStartFrom;
  return { pipelineFile, resumeFrom, ...(typeof warmStartFrom === 'string' ? { warmStartFrom } : {}) };
}
