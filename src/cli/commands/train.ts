/**
 * `loom train --resume <run id>`: continues a pipeline run whose training failed or was
 * killed, from the train step's last checkpoint. The run's pipeline file is loaded again,
 * so a fix made to it (a lower learning rate, more patience) applies to the continued
 * training; steps before training come from the cache.
 */
import type { Command } from 'commander';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CHECKPOINT_FILE } from '../../core/checkpoint-files.js';
import { LoomError } from '../../core/errors.js';
import { pathExists } from '../../core/path-exists.js';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import { trainComponent } from '../../train/component.js';
import { parseOptions } from '../options.js';
import { withProject, type Project } from '../project.js';
import { runAndReport } from './run.js';

const trainOptions = z.object({ resume: z.string().min(1, 'give the run id to resume (from `loom runs`)'), json: z.boolean().optional() });

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description("continue a failed or killed pipeline run's training from its last checkpoint")
    .requiredOption('--resume <run-id>', 'the pipeline run to continue (see `loom runs`)')
    .option('--json', 'print the result as JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(trainOptions, raw);
      const result = await withProject(async (project) => {
        const { pipelineFile, resumeFrom } = await checkpointsOf(project, options.resume);
        const pipeline = await loadPipelineFile(pipelineFile);
        return runAndReport(project, pipeline, { json: options.json, codeDir: dirname(pipelineFile), pipelineFile, resumeFrom });
      });
      if (result.failure) throw result.failure.error;
    });
}

/** The run's pipeline file and, per unfinished train step, the checkpoint it left. */
async function checkpointsOf(project: Project, runId: string): Promise<{ pipelineFile: string; resumeFrom: Record<string, string> }> {
  const context = await project.db.metadata.findContext('pipeline_run', runId);
  if (!context) throw new LoomError('NOT_FOUND', `no pipeline run "${runId}"`, { field: '--resume', fix: 'list runs with `loom runs`' });
  const pipelineFile = context.properties.pipelineFile;
  if (typeof pipelineFile !== 'string') {
    throw new LoomError('FAILED_PRECONDITION', `run "${runId}" was not started from a pipeline file, so it cannot be continued`, {
      fix: 'run the pipeline again with `loom run <file>`',
    });
  }
  const executions = (await project.db.metadata.listExecutions({ contextId: context.id, pageSize: 1000 })).items;
  const unfinished = executions.filter((e) => e.typeName === trainComponent.name && (e.state === 'FAILED' || e.state === 'RUNNING'));
  const resumeFrom: Record<string, string> = {};
  for (const execution of unfinished) {
    const dir = join(project.home, 'checkpoints', execution.cacheKey ?? '');
    if (execution.cacheKey && (await pathExists(join(dir, CHECKPOINT_FILE)))) resumeFrom[execution.stepName] = dir;
  }
  if (Object.keys(resumeFrom).length === 0) {
    const why = unfinished.length === 0 ? 'it has no failed or interrupted train step' : 'its train step left no checkpoint (set checkpointEvery on the step)';
    throw new LoomError('FAILED_PRECONDITION', `run "${runId}" cannot be continued: ${why}`, {
      fix: 'run the pipeline again with `loom run <file>`; with checkpointEvery set, a later failure can be continued',
    });
  }
  return { pipelineFile, resumeFrom };
}
