/** A custom trainer command in the train step; its MLflow calls reach this step's tracking run over REST. */
import { z } from 'zod';
import { customTrainerSchema, runCustomTrainer } from '../custom/custom-trainer.js';
import { defineTrainer, type TrainerOutcome, type TrainerRun } from './trainer.js';

export const customParameters = customTrainerSchema.extend({ algorithm: z.literal('custom') }).strict();

export async function trainCustom(run: TrainerRun<z.output<typeof customParameters>>): Promise<TrainerOutcome> {
  const { algorithm: _algorithm, ...spec } = run.parameters;
  run.services.log(`train: custom trainer \`${spec.command.join(' ')}\``);
  const tracking = await run.services.mlflowEndpoint?.();
  const trackingEnv = tracking ? { MLFLOW_TRACKING_URI: tracking.uri, MLFLOW_RUN_ID: tracking.runId } : undefined;
  const checkpointEnv = run.checkpoints ? { LOOM_CHECKPOINT_DIR: run.checkpoints.dir, ...(run.checkpoints.resumeFrom ? { LOOM_RESUME_DIR: run.checkpoints.resumeFrom } : {}) } : {};
  const result = await runCustomTrainer(
    { ...spec, env: { ...spec.env, ...checkpointEnv } },
    { dataDir: run.dataDir, modelPath: run.modelPath, width: run.meta.width, trackingEnv, onOutput: (line) => run.services.log(`train: ${line}`) },
  );
  return { algorithm: 'custom', stoppedBecause: 'completed', properties: { command: spec.command, seconds: result.seconds, adaptedOutput: result.adapted } };
}

/** Any command that writes an ONNX model. */
export const customTrainer = defineTrainer({
  parameters: customParameters,
  train: trainCustom,
});
