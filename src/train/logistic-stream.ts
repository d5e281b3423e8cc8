/**
 * Logistic regression over data streamed in chunks (a split read from disk one chunk at a
 * time), so a dataset larger than memory trains: only one chunk of features is held. Each
 * epoch asks the source for a fresh pass. The state after an epoch is a checkpoint;
 * resuming from one continues to the same weights as an uninterrupted run.
 *
 * Usage:
 *   for await (const state of streamLogisticRegression(() => readTransformedChunks(dir, 'train'), width, options, { classCounts })) log(state);
 */
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import {
  checkShape,
  hasConverged,
  initialState,
  outputsOf,
  predictLogisticRegression,
  scoreSums,
  scratchFor,
  trainChunk,
  type LinearState,
  type LogisticRegressionModel,
  type ResolvedLogisticOptions,
  type WarmStart,
} from './logistic-regression.js';
import { assertFiniteFeatures, prefetched, type LabelledMatrix } from './transformed-data.js';

/** A fresh pass over the rows, in the same order every time (the chunks' order is the shuffle's key). */
export type ChunkSource = () => AsyncIterable<LabelledMatrix>;

export interface StreamStart {
  /** Rows per label value (from `countClasses`), for the initial biases. */
  classCounts: ArrayLike<number>;
  warmStart?: WarmStart;
  /** A checkpoint's state (`linearStateFromJson`) to continue from. */
  resumeFrom?: LinearState;
}

/** Yields the live state after each epoch (copy what you keep), returns the model. */
export async function* streamLogisticRegression(
  source: ChunkSource,
  width: number,
  options: ResolvedLogisticOptions,
  start: StreamStart,
): AsyncGenerator<LinearState, LogisticRegressionModel, void> {
  const state = start.resumeFrom ?? initialState(width, options, start.classCounts, start.warmStart);
  if (state.width !== width || state.weights.length !== width * state.outputs || state.outputs !== outputsOf(options)) {
    throw new LoomError('FAILED_PRECONDITION', `the checkpoint holds a model of width ${state.width} with ${state.outputs} outputs; this training has ${width} columns and ${outputsOf(options)} outputs`, {
      fix: 'resume with the same transformed data and objective as the interrupted run, or start a new run',
    });
  }
  const scratch = scratchFor(state);
  let firstPass = true;
  while (state.epochsDone < options.epochs && !hasConverged(state.lossPerEpoch, options)) {
    let loss = 0;
    let rows = 0;
    let chunkIndex = 0;
    for await (const chunk of prefetched(source())) {
      checkShape(chunk);
      // Checked on the first pass only: later epochs read the same bytes.
      if (firstPass) assertFiniteFeatures(chunk, 'training', 'firstRow' in chunk ? Number(chunk.firstRow) : 0);
      loss += trainChunk(state, chunk, options, state.epochsDone, chunkIndex++, scratch);
      rows += chunk.labels.length;
    }
    if (rows === 0) throw new LoomError('INVALID_ARGUMENT', 'there are no rows to train on', { field: 'labels' });
    state.lossPerEpoch.push(loss / rows);
    state.epochsDone++;
    firstPass = false;
    yield state;
  }
  return { weights: state.weights, bias: state.bias, outputs: state.outputs, lossPerEpoch: state.lossPerEpoch };
}

/** Mean log loss and accuracy of a model over streamed rows (the eval split), one chunk in memory at a time. */
export async function scoreStreamed(model: Pick<LogisticRegressionModel, 'weights' | 'bias' | 'outputs'>, source: ChunkSource): Promise<{ logLoss: number; accuracy: number; rows: number }> {
  let loss = 0;
  let correct = 0;
  let rows = 0;
  for await (const chunk of prefetched(source())) {
    const sums = scoreSums(predictLogisticRegression(model, chunk.features), chunk.labels, model.outputs);
    loss += sums.loss;
    correct += sums.correct;
    rows += chunk.labels.length;
  }
  return { logLoss: loss / Math.max(rows, 1), accuracy: correct / Math.max(rows, 1), rows };
}

const numbers = z.array(z.number());
const savedLinearState = z
  .object({
    width: z.number().int().positive(),
    outputs: z.number().int().positive(),
    epochsDone: z.number().int().nonnegative(),
    step: z.number().int().nonnegative(),
    lossPerEpoch: numbers,
    weights: numbers,
    bias: numbers,
    m: numbers,
    v: numbers,
    mBias: numbers,
    vBias: numbers,
  })
  .refine((s) => [s.weights, s.m, s.v].every((a) => a.length === s.width * s.outputs) && [s.bias, s.mBias, s.vBias].every((a) => a.length === s.outputs), {
    message: 'the arrays do not match width x outputs',
    path: ['weights'],
  });

/** A checkpoint read back from JSON (number lists become Float64Arrays again, bit for bit). */
export function linearStateFromJson(value: unknown): LinearState | undefined {
  if (value === undefined) return undefined;
  const saved = parseInput(savedLinearState, value, { what: 'the logistic regression checkpoint', fix: 'resume with the trainer that wrote it, or start a new run' });
  const f64 = (list: number[]) => Float64Array.from(list);
  return {
    ...saved,
    weights: f64(saved.weights),
    bias: f64(saved.bias),
    m: f64(saved.m),
    v: f64(saved.v),
    mBias: f64(saved.mBias),
    vBias: f64(saved.vBias),
  };
}
