/**
 * Following a run while it trains: poll the store, and report each metric point once, in
 * step order, until the run leaves RUNNING. The CLI draws what this yields.
 *
 * Usage: `for await (const update of watchRun(store, runId, { intervalMs: 1000 })) draw(update)`
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { requireRun, type TrackingStore } from './store.js';
import type { Metric, Run } from './types.js';

export interface WatchUpdate {
  run: Run;
  /** Points not reported before, by step, then key, then timestamp. */
  newPoints: Metric[];
  /** Every point so far, per metric key. */
  history: Map<string, Metric[]>;
  /** True on the last update: the run is no longer RUNNING. */
  ended: boolean;
}

export async function* watchRun(store: TrackingStore, runId: string, options: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<WatchUpdate> {
  const history = new Map<string, Metric[]>();
  for (;;) {
    const run = await requireRun(store, runId, 'run id');
    // Read the status first: points logged before the run ended are then all in this poll.
    const ended = run.info.status !== 'RUNNING' || options.signal?.aborted === true;
    const newPoints: Metric[] = [];
    for (const { key } of run.data.metrics) {
      const seen = history.get(key) ?? [];
      const all = (await store.getMetricHistory(runId, key, { maxResults: 1_000_000 })).items;
      // The history only grows; a point logged late with an earlier step still counts as new.
      if (all.length > seen.length) newPoints.push(...newSince(seen, all));
      history.set(key, all);
    }
    // Keys in name order within a step, so a step's line reads the same whatever millisecond each point got.
    newPoints.sort((a, b) => a.step - b.step || a.key.localeCompare(b.key) || a.timestamp - b.timestamp);
    yield { run, newPoints, history, ended };
    if (ended) return;
    try {
      await sleep(options.intervalMs ?? 1000, undefined, { signal: options.signal });
    } catch {
      // Aborted: one more poll reports the last points, then the watch ends.
    }
  }
}

function newSince(seen: Metric[], all: Metric[]): Metric[] {
  const counts = new Map<string, number>();
  for (const m of seen) counts.set(pointKey(m), (counts.get(pointKey(m)) ?? 0) + 1);
  return all.filter((m) => {
    const key = pointKey(m);
    const left = counts.get(key) ?? 0;
    if (left > 0) {
      counts.set(key, left - 1);
      return false;
    }
    return true;
  });
}

const pointKey = (m: Metric) => `${m.key}\u0000${m.step}\u0000${m.timestamp}\u0000${m.value}`;
