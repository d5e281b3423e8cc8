/**
 * `loom tune <pipeline file> --trials N [--parallel N] [--timeout S]`: runs a pipeline whose
 * `tune` step (src/train/tune-component.ts) searches a trainer's hyperparameters, with the
 * study's budget set from the command line. Everything before the tune step is cached as
 * in `loom run`; the best trial's model flows on to compose, evaluate and push.
 */
import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import type { Pipeline } from '../../pipeline/dsl.js';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import { tuneComponent } from '../../train/tune-component.js';
import { parseOptions } from '../options.js';
import { withProject } from '../project.js';
import { runAndReport } from './run.js';

const tuneOptions = z.object({
  trials: z.coerce.number().int().min(1).max(10_000).optional(),
  parallel: z.coerce.number().int().min(1).max(64).optional(),
  timeout: z.coerce.number().positive().optional(),
  json: z.boolean().optional(),
});

export function registerTuneCommand(program: Command): void {
  program
    .command('tune')
    .description("run a pipeline's tune step with a trial budget: random or TPE search, pruning, trials in parallel processes")
    .argument('<pipeline-file>', 'a pipeline file with a step using the tune component')
    .option('--trials <n>', 'trials to run (the budget)')
    .option('--parallel <n>', 'trials at once, each in its own process')
    .option('--timeout <seconds>', 'stop starting trials after this long')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, raw: unknown) => {
      const options = parseOptions(tuneOptions, raw);
      const pipeline = withTuneBudget(await loadPipelineFile(file), options);
      const result = await withProject((project) => runAndReport(project, pipeline, { json: options.json, codeDir: dirname(resolve(file)) }), { create: true });
      if (result.failure) throw result.failure.error;
    });
}

/** The pipeline with every tune step's budget replaced by the command line's. */
export function withTuneBudget(pipeline: Pipeline, budget: { trials?: number; parallel?: number; timeout?: number }): Pipeline {
  const tuneSteps = pipeline.steps.filter((step) => step.component.name === tuneComponent.name);
  if (tuneSteps.length === 0) {
    throw new LoomError('INVALID_ARGUMENT', `pipeline "${pipeline.name}" has no tune step`, {
      field: 'pipeline file',
      fix: "add one: p.step('tune', tuneComponent, { inputs: { transformedExamples, transformGraph }, parameters: { space: {...} } }) (src/train/tune-component.ts)",
    });
  }
  const override = {
    ...(budget.trials !== undefined ? { trials: budget.trials } : {}),
    ...(budget.parallel !== undefined ? { parallelism: budget.parallel } : {}),
    ...(budget.timeout !== undefined ? { timeoutSeconds: budget.timeout } : {}),
  };
  return {
    ...pipeline,
    steps: pipeline.steps.map((step) => (tuneSteps.includes(step) ? { ...step, parameters: { ...step.parameters, ...override } } : step)),
  };
}
