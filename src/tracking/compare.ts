/**
 * Runs side by side, as MLflow's compare view shows them: one row per param and per
 * metric (the latest value), one column per run, and whether the values differ.
 *
 * Usage: `compareRuns([runA, runB]).metrics.filter((row) => row.differs)`
 */
import type { Run } from './types.js';

export interface ComparisonRow<V> {
  key: string;
  /** One value per run, in the order given; null where a run lacks the key. */
  values: (V | null)[];
  differs: boolean;
}

export interface RunComparison {
  runs: { runId: string; runName: string; status: string; experimentId: string }[];
  params: ComparisonRow<string>[];
  metrics: ComparisonRow<number>[];
}

function rows<V>(runs: Run[], valuesOf: (run: Run) => Map<string, V>, same: (a: V | null, b: V | null) => boolean): ComparisonRow<V>[] {
  const maps = runs.map(valuesOf);
  const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
  return keys.map((key) => {
    const values = maps.map((m) => (m.has(key) ? m.get(key)! : null));
    return { key, values, differs: values.some((v) => !same(v, values[0]!)) };
  });
}

const sameNumber = (a: number | null, b: number | null) => a === b || (a !== null && b !== null && Number.isNaN(a) && Number.isNaN(b));

export function compareRuns(runs: Run[]): RunComparison {
  return {
    runs: runs.map((r) => ({ runId: r.info.runId, runName: r.info.runName, status: r.info.status, experimentId: r.info.experimentId })),
    params: rows(runs, (r) => new Map(Object.entries(r.data.params)), (a, b) => a === b),
    metrics: rows(runs, (r) => new Map(r.data.metrics.map((m) => [m.key, m.value])), sameNumber),
  };
}
