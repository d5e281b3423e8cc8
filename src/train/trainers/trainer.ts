/**
 * What the train step hands each trainer: the transformed data's location and shape, the
 * step's services, where to write the model, and where checkpoints live. A trainer returns
 * the Model artifact's properties and why it stopped.
 */
import type { JsonObject } from '../../core/json.js';
import type { ExecutorServices } from '../../pipeline/component.js';
import type { TransformedMeta } from '../transformed-data.js';

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
