/**
 * The messages between a study (parent process) and its trial workers (child processes),
 * and the API an objective function sees. An objective is an exported async function in
 * any module: `(params, trial) => number | { value, result }`; it calls
 * `await trial.report(step, value)` as it trains, which throws TrialPrunedError when the
 * study's pruner stops the trial.
 */
import type { JsonValue } from '../../core/json.js';
import type { Params } from './search-space.js';

export interface TrialHandle {
  readonly number: number;
  /** Whatever the study was given as `objective.context` (paths, fixed parameters). */
  readonly context: JsonValue;
  /** Reports an intermediate value (same direction as the objective); throws TrialPrunedError to stop. */
  report(step: number, value: number): Promise<void>;
}

export type ObjectiveResult = number | { value: number; result?: JsonValue };
export type ObjectiveFunction = (params: Params, trial: TrialHandle) => Promise<ObjectiveResult>;

export class TrialPrunedError extends Error {
  constructor(readonly step: number) {
    super(`trial pruned at step ${step}`);
    this.name = 'TrialPrunedError';
  }
}

export type ToWorker =
  | { type: 'run'; trial: number; params: Params; module: string; exportName: string; context: JsonValue }
  | { type: 'decision'; trial: number; step: number; prune: boolean };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'report'; trial: number; step: number; value: number }
  | { type: 'done'; trial: number; value: number; result?: JsonValue }
  | { type: 'pruned'; trial: number; step: number }
  | { type: 'failed'; trial: number; message: string };
