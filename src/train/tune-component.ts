/**
 * The `tune` step (TFX's Tuner, with Katib's and Optuna's search): a study over a trainer's
 * hyperparameters on the transformed training split, trials in parallel worker processes,
 * poor trials pruned; outputs the best trial's model (which compose, evaluate and push
 * treat like any trained model) and the study's parameters and trials.
 * `loom tune <pipeline file> --trials N` runs a pipeline with its tune step's budget changed.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { siblingModule } from '../core/sibling-module.js';
import { defineComponent } from '../pipeline/component.js';
import type { TrackingLogger } from '../tracking/logger.js';
import { HyperParameters, Model, TransformGraph, TransformedExamples } from '../pipeline/artifact-types.js';
import { METADATA_LABEL_COLUMN } from '../transform/graph.js';
import { PRUNERS } from './tuning/pruners.js';
import { SAMPLERS } from './tuning/samplers.js';
import { searchSpaceSchema } from './tuning/search-space.js';
import { runStudy, type TrialRecord } from './tuning/study.js';
import { TUNABLE_TRAINERS } from './trainers/index.js';

export const tuneParameters = z.object({
  trainer: z.enum(TUNABLE_TRAINERS).default(TUNABLE_TRAINERS[0]),
  space: searchSpaceSchema,
  /** Parameters every trial shares. */
  fixed: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.number())])).default({}),
  trials: z.number().int().min(1).max(10_000).default(20),
  parallelism: z.number().int().min(1).max(64).default(2),
  sampler: z.enum(SAMPLERS).default('tpe'),
  pruner: z.enum(PRUNERS).default('median'),
  timeoutSeconds: z.number().positive().optional(),
  seed: z.number().int().default(42),
});

const OBJECTIVE_MODULE = siblingModule(import.meta.url, './tuning/trainer-objective').pathname;

/** The tune step's parameters as a pipeline file writes them (defaults may be left out). */
export type TuneParameters = z.input<typeof tuneParameters>;

export const tuneComponent = defineComponent({
  name: 'tune',
  version: '1',
  description: "Searches a trainer's hyperparameters (random or TPE, with pruning) and outputs the best trial's model",
  inputs: { transformedExamples: { type: TransformedExamples }, transformGraph: { type: TransformGraph } },
  outputs: { model: Model, hyperparameters: HyperParameters },
  parameters: tuneParameters,
  async execute({ inputs, outputs, parameters }, services) {
    const labelColumn = String(inputs.transformGraph.properties.labelColumn ?? '');
    const scratch = await mkdtemp(join(tmpdir(), 'loom-tune-'));
    try {
      services.log(`tune: ${parameters.trials} trials of ${parameters.trainer}, ${parameters.parallelism} at a time (${parameters.sampler}, pruner ${parameters.pruner})`);
      const task = services.progress.start('tuning', parameters.trials, 'trials');
      // The study is the step's tracking run; each trial is a nested run under it (as MLflow shows sweeps).
      const trialRuns: Promise<void>[] = [];
      const study = await runStudy({
        space: parameters.space,
        direction: 'minimize',
        sampler: parameters.sampler,
        pruner: parameters.pruner,
        trials: parameters.trials,
        parallelism: parameters.parallelism,
        timeoutSeconds: parameters.timeoutSeconds,
        seed: parameters.seed,
        objective: {
          module: OBJECTIVE_MODULE,
          exportName: 'trainerObjective',
          context: { dataDir: inputs.transformedExamples.path, outputDir: scratch, trainer: parameters.trainer, fixed: parameters.fixed, metadata: { [METADATA_LABEL_COLUMN]: labelColumn } },
        },
        onTrial: (trial) => {
          task.advance(1);
          const outcome = trial.state === 'COMPLETE' ? `hold-out loss ${trial.value?.toFixed(5)}` : trial.state === 'PRUNED' ? `pruned after ${trial.intermediate.length} steps` : `failed: ${trial.error}`;
          services.log(`tune: trial ${trial.number} ${JSON.stringify(trial.params)} ${outcome}`);
          if (services.tracking) {
            const recorded = recordTrial(services.tracking, trial).catch((error: unknown) => services.log(`tune: could not record trial ${trial.number} in tracking: ${String(error)}`));
            trialRuns.push(recorded);
          }
        },
      });
      task.done();
      await Promise.all(trialRuns);
      const best = study.best;
      if (!best) {
        const reasons = [...new Set(study.trials.map((trial) => trial.error).filter(Boolean))].slice(0, 3).join('; ');
        throw new LoomError('FAILED_PRECONDITION', `no trial of the study completed (${study.trials.length} ran)${reasons ? `: ${reasons}` : ''}`, {
          fix: 'check the search space and fixed parameters against the trainer (the errors above), or raise the time budget',
        });
      }
      await copyFile((best.result as { modelPath: string }).modelPath, Model.files.model(outputs.model));
      const fixed = parameters.fixed;
      const summary = {
        trainer: parameters.trainer,
        best: best.params,
        fixed,
        trials: study.trials.map(({ number, params, state, value, intermediate, seconds }) => ({ number, params, state, value, steps: intermediate.length, seconds })),
      };
      await writeFile(HyperParameters.files.study(outputs.hyperparameters), `${JSON.stringify(summary, null, 2)}\n`);
      const count = (state: string) => study.trials.filter((trial) => trial.state === state).length;
      services.log(`tune: best trial ${best.number} ${JSON.stringify(best.params)} hold-out loss ${best.value?.toFixed(5)}`);
      await services.tracking?.logParams({ trainer: parameters.trainer, sampler: parameters.sampler, pruner: parameters.pruner, trials: parameters.trials });
      await services.tracking?.logMetrics({ best_holdout_log_loss: best.value ?? Number.NaN }, { step: best.number });
      await services.tracking?.setTags({ 'loom.best_trial': String(best.number), 'loom.best_params': JSON.stringify(best.params) });
      return {
        properties: {
          model: { algorithm: parameters.trainer, hyperparameters: { ...fixed, ...best.params } },
          hyperparameters: { trainer: parameters.trainer, best: best.params, bestValue: best.value ?? 0, trials: study.trials.length, pruned: count('PRUNED'), failed: count('FAILED') },
        },
      };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
});

/** One trial as a nested tracking run: its parameters, its hold-out loss per step, and how it ended. */
async function recordTrial(tracking: TrackingLogger, trial: TrialRecord): Promise<void> {
  const run = await tracking.childRun(`trial-${trial.number}`);
  await run.logParams(Object.fromEntries(Object.entries(trial.params).map(([key, value]) => [key, String(value)])));
  for (const [step, value] of trial.intermediate) await run.logMetrics({ holdout_log_loss: value }, { step });
  await run.setTags({ 'loom.trial_state': trial.state, ...(trial.error ? { 'loom.trial_error': trial.error.slice(0, 500) } : {}) });
  await run.end(trial.state === 'COMPLETE' ? 'FINISHED' : trial.state === 'PRUNED' ? 'KILLED' : 'FAILED');
}
