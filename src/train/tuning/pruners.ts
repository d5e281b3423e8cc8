/**
 * Early stopping of poor trials from their intermediate values (a loss per step, lower is
 * better). `median` (Optuna's MedianPruner, Google Vizier's median stopping rule): stop a
 * trial whose best value so far is worse than the median of the other trials' best values
 * at the same step. `asha` (Asynchronous Successive Halving, Li et al. 2018): at each rung
 * (steps minSteps * eta^k) a trial continues only if it is in the top 1/eta of the values
 * seen at that rung so far. `none` never stops a trial.
 */
export const PRUNERS = ['none', 'median', 'asha'] as const;
export type PrunerName = (typeof PRUNERS)[number];

export interface PrunerOptions {
  /** Trials that finish before any is pruned (median); default 5. */
  startupTrials?: number;
  /** Steps a trial runs before it can be pruned; default 1 (median) / the first rung (asha). */
  warmupSteps?: number;
  /** ASHA: the first rung's step; default 1. */
  minSteps?: number;
  /** ASHA: the reduction factor; default 3. */
  eta?: number;
}

export interface Pruner {
  /** Records a trial's value at a step and says whether to stop the trial now. */
  report(trial: number, step: number, loss: number): boolean;
  /** A trial finished (or failed); its values keep informing later decisions. */
  finish(trial: number): void;
}

export function createPruner(name: PrunerName, options: PrunerOptions = {}): Pruner {
  if (name === 'median') return medianPruner(options);
  if (name === 'asha') return ashaPruner(options);
  return { report: () => false, finish() {} };
}

function medianPruner(options: PrunerOptions): Pruner {
  const startup = options.startupTrials ?? 5;
  const warmup = options.warmupSteps ?? 1;
  /** trial -> best loss so far at each step reported. */
  const curves = new Map<number, Map<number, number>>();
  const finished = new Set<number>();
  return {
    report(trial, step, loss) {
      const curve = curves.get(trial) ?? new Map<number, number>();
      curves.set(trial, curve);
      const previousBest = Math.min(...[...curve.entries()].filter(([s]) => s < step).map(([, v]) => v), Infinity);
      curve.set(step, Math.min(loss, previousBest));
      if (finished.size < startup || step < warmup) return false;
      const others: number[] = [];
      for (const [other, otherCurve] of curves) {
        if (other === trial) continue;
        const value = otherCurve.get(step);
        if (value !== undefined) others.push(value);
      }
      if (others.length === 0) return false;
      return (curve.get(step) as number) > median(others);
    },
    finish(trial) {
      finished.add(trial);
    },
  };
}

function ashaPruner(options: PrunerOptions): Pruner {
  const minSteps = options.minSteps ?? 1;
  const eta = options.eta ?? 3;
  const rungs = new Map<number, number[]>();
  const isRung = (step: number) => {
    if (step < minSteps) return false;
    const k = Math.log(step / minSteps) / Math.log(eta);
    return Math.abs(k - Math.round(k)) < 1e-9;
  };
  return {
    report(_trial, step, loss) {
      if (!isRung(step)) return false;
      const seen = rungs.get(step) ?? [];
      seen.push(loss);
      rungs.set(step, seen);
      // Continue only among the top 1/eta seen at this rung (the first arrivals always continue).
      const keep = Math.max(1, Math.floor(seen.length / eta));
      const sorted = [...seen].sort((a, b) => a - b);
      return loss > sorted[keep - 1];
    },
    finish() {},
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
