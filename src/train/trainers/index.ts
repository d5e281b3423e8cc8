/**
 * The registry of trainers: the train step, tuning and warm start all read this one list.
 * Adding a trainer is its own file in this folder plus one line here.
 *
 * Usage: `const trainer = trainerFor(parameters.algorithm); await trainer.train(run);`
 */
import { LoomError } from '../../core/errors.js';
import { customTrainer } from './custom.js';
import { gbdtTrainer } from './gbdt.js';
import { logisticTrainer } from './logistic.js';
import { mlpTrainer } from './mlp.js';
import type { Trainer } from './trainer.js';

/** Every trainer, the default first. */
export const TRAINERS = [logisticTrainer, gbdtTrainer, mlpTrainer, customTrainer] as const;

/** The algorithm a train step without `algorithm` uses (pipelines from before trainers were selectable). */
export const DEFAULT_ALGORITHM = TRAINERS[0].algorithm;

/** The trainers a tuning study can search, by algorithm. */
export const TUNABLE_TRAINERS = TRAINERS.filter((trainer) => trainer.tuneTrial).map((trainer) => trainer.algorithm) as [string, ...string[]];

/** The trainer of `algorithm`; INVALID_ARGUMENT naming the known ones otherwise. */
export function trainerFor(algorithm: string): Trainer {
  const trainer = TRAINERS.find((candidate) => candidate.algorithm === algorithm);
  if (!trainer) {
    throw new LoomError('INVALID_ARGUMENT', `no trainer "${algorithm}"`, { field: 'algorithm', fix: `use one of ${TRAINERS.map((t) => t.algorithm).join(', ')}` });
  }
  return trainer as Trainer;
}
