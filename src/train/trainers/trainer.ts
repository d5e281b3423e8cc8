/**
 * The `Trainer` interface: what one training algorithm offers the train step, tuning and
 * warm start. Each trainer lives in its own file of this folder and is listed once in
 * `index.ts`; nothing else names trainers. The train step hands a trainer the transformed
 * data's location and shape, the step's services, where to write the model, and where
 * checkpoints live; the trainer returns the Model artifact's properties and why it stopped.
 */
import type { z } from 'zod';
import type { JsonObject } from '../../core/json.js';
import type { ExecutorServices } from '../../pipeline/component.js';
import type { LabelledMatrix, TransformedMeta } from '../transformed-data.js';

export interface Checkpoints {
  /** Where this step writes its checkpoints (kept until the step completes). */
  dir: string;
  /** A checkpoint directory to continue from (this step's own after a crash, or a failed run's). */
  resumeFrom?: string;
  /** Rounds or epochs between checkpoints; 0 writes none. */
  every: number;
}

export interface TrainerRun<P> {
  dataDir: string;
  meta: TransformedMeta;
  parameters: P;
  services: ExecutorServices;
  modelPath: string;
  /** metadata_props every exported model carries (the label column). */
  metadata: Record<string, string>;
  checkpoints?: Checkpoints;
}

export interface TrainerOutcome {
  algorithm: string;
  /** Why training ended: `completed`, `early_stopping`, `no_split`, `patience`. */
  stoppedBecause: string;
  /** Training loss per epoch or round, when the trainer has one. */
  lossPerEpoch?: number[];
  /** The trainer's own record (rounds kept, hold-out losses, seconds per epoch): the Model's `training` property. */
  properties: JsonObject;
}

/** Rows of the training split held out for early stopping and live validation curves (every 5th). */
export const HOLD_OUT_EVERY = 5;

/** One trial of a tuning study: fit on `fit`, report the hold-out loss as training goes. */
export interface TuningTrialRun {
  fit: LabelledMatrix;
  holdout: LabelledMatrix;
  /** The study's fixed parameters with the trial's sampled ones on top. */
  options: Record<string, unknown>;
  /** Reports the hold-out loss after a round or epoch; throws when the study prunes the trial. */
  report(step: number, loss: number): Promise<void>;
  /** What the exported model records: its feature names and metadata_props (the label column). */
  featureNames: string[];
  metadata: Record<string, string>;
}

/**
 * A training algorithm. `parameters` is the train step's parameter schema for it, with
 * `algorithm` as a literal; the step picks the trainer by that value.
 *
 * Usage (adding a trainer): write `trainers/<name>.ts` exporting `defineTrainer({...})`,
 * then list it in `trainers/index.ts`.
 */
export interface Trainer<S extends z.ZodType = z.ZodType> {
  /** The `algorithm` parameter's value for this trainer. */
  algorithm: string;
  parameters: S;
  /** Trains in the train step; `warmStartFrom` is set only for a trainer with `warmStarts`. */
  train(run: TrainerRun<z.output<S>>, warmStartFrom?: string): Promise<TrainerOutcome>;
  /** Whether it can continue an earlier model of its own kind (`warmStartFrom`, `loom train --update`). */
  warmStarts?: boolean;
  /** Present when a tuning study can search its hyperparameters: trains one trial, returns the final hold-out loss and the ONNX model. */
  tuneTrial?(run: TuningTrialRun): Promise<{ loss: number; model: Uint8Array }>;
}

/** Declares a trainer, keeping its parameter schema's type; its `algorithm` is the schema's `algorithm` literal, so the two cannot disagree. */
export function defineTrainer<S extends z.ZodObject<{ algorithm: z.ZodLiteral<string> }, z.core.$ZodObjectConfig>>(trainer: Omit<Trainer<S>, 'algorithm'>): Trainer<S> {
  return { ...trainer, algorithm: trainer.parameters.shape.algorithm.value };
}
