/**
 * Samplers propose a trial's parameters from the trials so far. `random` draws each
 * parameter uniformly (in log space for log scales). `tpe` is the Tree-structured Parzen
 * Estimator (Bergstra et al. 2011, as Optuna runs it by default): past trials are split
 * into the best `gamma(n)` and the rest, each parameter gets a Parzen density for both
 * groups, and the candidate (of 24 drawn from the good density) with the highest ratio
 * good/bad wins. Parameters are treated independently, as Optuna's default does.
 */
import { mulberry32 } from '../../core/random.js';
import { decode, encode, internalBounds, sampleUniform, type Dimension, type Params, type SearchSpace } from './search-space.js';

export interface FinishedTrial {
  params: Params;
  /** The objective's value, already oriented so that lower is better. */
  loss: number;
}

export interface Sampler {
  propose(space: SearchSpace, history: readonly FinishedTrial[]): Params;
}

export const SAMPLERS = ['random', 'tpe'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export function createSampler(name: SamplerName, seed: number): Sampler {
  const random = mulberry32(seed >>> 0);
  return name === 'random' ? randomSampler(random) : tpeSampler(random);
}

function randomSampler(random: () => number): Sampler {
  return {
    propose(space) {
      return Object.fromEntries(Object.entries(space).map(([name, dimension]) => [name, sampleUniform(dimension, random)]));
    },
  };
}

const STARTUP_TRIALS = 10;
const CANDIDATES = 24;

/** Optuna's default split: the best 10% of trials, at most 25, at least 1. */
function goodCount(n: number): number {
  return Math.max(1, Math.min(Math.ceil(0.1 * n), 25));
}

function tpeSampler(random: () => number): Sampler {
  const fallback = randomSampler(random);
  return {
    propose(space, history) {
      if (history.length < STARTUP_TRIALS) return fallback.propose(space, history);
      const sorted = [...history].sort((a, b) => a.loss - b.loss);
      const good = sorted.slice(0, goodCount(sorted.length));
      const bad = sorted.slice(good.length);
      const params: Params = {};
      for (const [name, dimension] of Object.entries(space)) {
        const below = good.map((trial) => encode(dimension, trial.params[name]));
        const above = bad.map((trial) => encode(dimension, trial.params[name]));
        params[name] = dimension.type === 'choice' ? proposeChoice(dimension, below, above, random) : proposeNumber(dimension, below, above, random);
      }
      return params;
    },
  };
}

interface Parzen {
  centers: number[];
  sigmas: number[];
  low: number;
  high: number;
}

/** A Gaussian at each observation plus a wide prior at the middle; widths from the neighbours' gaps. */
function parzen(observations: number[], low: number, high: number): Parzen {
  const range = high - low;
  const points = [...observations, (low + high) / 2].sort((a, b) => a - b);
  const minSigma = range / Math.min(100, 1 + points.length);
  const sigmas = points.map((x, i) => {
    const left = i > 0 ? x - points[i - 1] : x - low;
    const right = i < points.length - 1 ? points[i + 1] - x : high - x;
    return Math.min(range, Math.max(minSigma, left, right));
  });
  const prior = points.indexOf((low + high) / 2);
  sigmas[prior] = range;
  return { centers: points, sigmas, low, high };
}

function logDensity(p: Parzen, x: number): number {
  let sum = 0;
  for (let i = 0; i < p.centers.length; i++) {
    const z = (x - p.centers[i]) / p.sigmas[i];
    sum += Math.exp(-0.5 * z * z) / p.sigmas[i];
  }
  return Math.log(sum / p.centers.length + 1e-300);
}

function sampleParzen(p: Parzen, random: () => number): number {
  for (;;) {
    const i = Math.floor(random() * p.centers.length);
    // Box-Muller; redraw outside the bounds (a truncated mixture).
    const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const x = p.centers[i] + p.sigmas[i] * gaussian;
    if (x >= p.low && x <= p.high) return x;
  }
}

function proposeNumber(dimension: Exclude<Dimension, { type: 'choice' }>, below: number[], above: number[], random: () => number) {
  const [low, high] = internalBounds(dimension);
  const l = parzen(below, low, high);
  const g = parzen(above, low, high);
  let best = sampleParzen(l, random);
  let bestScore = -Infinity;
  for (let k = 0; k < CANDIDATES; k++) {
    const x = k === 0 ? best : sampleParzen(l, random);
    const score = logDensity(l, x) - logDensity(g, x);
    if (score > bestScore) {
      best = x;
      bestScore = score;
    }
  }
  return decode(dimension, best);
}

function proposeChoice(dimension: Extract<Dimension, { type: 'choice' }>, below: number[], above: number[], random: () => number) {
  const k = dimension.values.length;
  const weights = (observations: number[]) => {
    const counts = new Array<number>(k).fill(1 / k);
    for (const index of observations) if (index >= 0) counts[index] += 1;
    const total = counts.reduce((a, b) => a + b, 0);
    return counts.map((count) => count / total);
  };
  const l = weights(below);
  const g = weights(above);
  let best = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < CANDIDATES; c++) {
    let r = random();
    let index = 0;
    while (index < k - 1 && r >= l[index]) r -= l[index++];
    const score = Math.log(l[index]) - Math.log(g[index]);
    if (score > bestScore) {
      best = index;
      bestScore = score;
    }
  }
  return dimension.values[best];
}
