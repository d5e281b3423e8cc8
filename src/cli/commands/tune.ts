/**
 * `loom tune <pipeline file> --trials N [--parallel N] [--timeout S]`: runs a pipeline whose
 * `tune` step (src/train/tune-component.ts) searches a trainer's hyperparameters, with the
 * study's budget set from the command line. Everything before the tune step is cached as
 * in `loom run`; the best trial's model flows on to compose, evaluate and push.
 */
import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import { withTuneBudget } from '../../train/pipeline-overrides.js';
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
