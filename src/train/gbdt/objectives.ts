/**
 * The losses gradient boosting minimises, as LightGBM defines them: `binary` (log loss on
 * a logit), `multiclass` (softmax cross-entropy, one tree per class per round) and
 * `regression` (squared error). Scores are raw (logits for the classifiers), stored
 * row-major with one column per tree of a round.
 */
import type { z } from 'zod';

export const OBJECTIVES = ['binary', 'multiclass', 'regression'] as const;

/** Options of any trainer with an objective: a multiclass objective needs its class count. */
export function requireClassCount<S extends z.ZodType<{ objective: string; numClasses?: number }>>(schema: S) {
  return schema.refine((o) => o.objective !== 'multiclass' || o.numClasses !== undefined, {
    message: 'a multiclass objective needs numClasses (3 or more)',
    path: ['numClasses'],
  });
}
export type Objective = (typeof OBJECTIVES)[number];

export interface ObjectiveFunctions {
  /** Trees per boosting round. */
  readonly outputs: number;
  /** The starting raw score per output (boost from the average, as LightGBM does). */
  initScores(labels: Float32Array): number[];
  /**
   * Fills gradient and hessian of output `k` for rows [from, to) (default: every row). Each
   * row depends on its own scores and label only, so any split into ranges (one per thread)
   * gives the same bits.
   */
  gradients(scores: Float64Array, labels: Float32Array, k: number, gradient: Float64Array, hessian: Float64Array, from?: number, to?: number): void;
  /** Mean loss of the scores: log loss or mean squared error. */
  loss(scores: Float64Array, labels: Float32Array): number;
}

const EPS = 1e-15;

export function objectiveFunctions(objective: Objective, numClasses: number): ObjectiveFunctions {
  if (objective === 'binary') return binary;
  if (objective === 'regression') return regression;
  return multiclass(numClasses);
}

const binary: ObjectiveFunctions = {
  outputs: 1,
  initScores(labels) {
    let positives = 0;
    for (const y of labels) positives += y;
    const rate = Math.min(Math.max(positives / labels.length, 1e-6), 1 - 1e-6);
    return [Math.log(rate / (1 - rate))];
  },
  gradients(scores, labels, _k, gradient, hessian, from = 0, to = labels.length) {
    for (let i = from; i < to; i++) {
      const p = 1 / (1 + Math.exp(-scores[i]));
      gradient[i] = p - labels[i];
      hessian[i] = Math.max(p * (1 - p), EPS);
    }
  },
  loss(scores, labels) {
    let total = 0;
    for (let i = 0; i < labels.length; i++) {
      const p = Math.min(Math.max(1 / (1 + Math.exp(-scores[i])), EPS), 1 - EPS);
      total -= labels[i] > 0.5 ? Math.log(p) : Math.log(1 - p);
    }
    return total / labels.length;
  },
};

const regression: ObjectiveFunctions = {
  outputs: 1,
  initScores(labels) {
    let sum = 0;
    for (const y of labels) sum += y;
    return [sum / labels.length];
  },
  gradients(scores, labels, _k, gradient, hessian, from = 0, to = labels.length) {
    for (let i = from; i < to; i++) {
      gradient[i] = scores[i] - labels[i];
      hessian[i] = 1;
    }
  },
  loss(scores, labels) {
    let total = 0;
    for (let i = 0; i < labels.length; i++) total += (scores[i] - labels[i]) ** 2;
    return total / labels.length;
  },
};

function multiclass(classes: number): ObjectiveFunctions {
  // LightGBM scales the softmax hessian by K/(K-1) so one round's K trees step like a Newton step.
  const factor = classes / (classes - 1);
  const probabilities = (scores: Float64Array, i: number, out: Float64Array) => {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, scores[i * classes + k]);
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      out[k] = Math.exp(scores[i * classes + k] - max);
      sum += out[k];
    }
    for (let k = 0; k < classes; k++) out[k] /= sum;
  };
  const p = new Float64Array(classes);
  return {
    outputs: classes,
    initScores(labels) {
      const counts = new Array<number>(classes).fill(0);
      for (const y of labels) counts[y]++;
      return counts.map((count) => Math.log(Math.max(count / labels.length, 1e-6)));
    },
    gradients(scores, labels, k, gradient, hessian, from = 0, to = labels.length) {
      for (let i = from; i < to; i++) {
        probabilities(scores, i, p);
        gradient[i] = p[k] - (labels[i] === k ? 1 : 0);
        hessian[i] = Math.max(factor * p[k] * (1 - p[k]), EPS);
      }
    },
    loss(scores, labels) {
      let total = 0;
      for (let i = 0; i < labels.length; i++) {
        probabilities(scores, i, p);
        total -= Math.log(Math.max(p[labels[i]], EPS));
      }
      return total / labels.length;
    },
  };
}
