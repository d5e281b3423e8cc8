/**
 * The part of the TrackingStore contract about reading a metric as columns for charts: every
 * point in the history order, and the downsampling inside the database (first and last point,
 * each bucket's min and max, NaN and the infinities never a bucket's min or max). Run by
 * `describeTrackingStoreContract`.
 */
import assert from 'node:assert/strict';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import type { TrackingStore } from './store.js';

const T0 = 1_700_000_000_000;

/** The documented choice (`MetricColumnsOptions`) written plainly, as the oracle of the larger cases. */
function expectedKept(values: readonly number[], maxPoints: number): number[] {
  const n = values.length;
  const limit = Math.max(4, maxPoints);
  if (maxPoints === 0 || n <= limit) return values.map((_, i) => i);
  const buckets = Math.floor((limit - 2) / 2);
  const kept = [0];
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor((b * (n - 2)) / buckets);
    const to = 1 + Math.floor(((b + 1) * (n - 2)) / buckets);
    const finite = Array.from({ length: to - from }, (_, k) => from + k).filter((i) => Number.isFinite(values[i]));
    if (finite.length === 0) {
      kept.push(from);
      continue;
    }
    const low = finite.reduce((best, i) => (values[i]! < values[best]! ? i : best));
    const high = finite.reduce((best, i) => (values[i]! > values[best]! ? i : best));
    kept.push(...new Set([Math.min(low, high), Math.max(low, high)]));
  }
  kept.push(n - 1);
  return kept;
}

/** Logs `values` as `key` at steps 0, 1, 2, … in a new run; returns the run id. */
async function runLogging(store: TrackingStore, key: string, values: readonly number[]): Promise<string> {
  const { info } = await store.createRun({});
  await store.logBatch(info.runId, { metrics: values.map((value, step) => ({ key, value, step, timestamp: T0 + step })) });
  return info.runId;
}

export function describeMetricColumnsContract(test: (title: string, body: (store: TrackingStore) => Promise<void>) => void): void {
  test('reads a metric as columns in the history order, NaN, infinities and full doubles kept', async (store) => {
    const { info } = await store.createRun({});
    const odd = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.1 + 0.2, -1e-300, 2 ** 53];
    // Out of order, a step logged twice (the earlier timestamp first), and another key between.
    const metrics = odd.map((value, i) => ({ key: 'm', value, timestamp: T0 + 10 - i, step: 5 - i }));
    metrics.push({ key: 'm', value: 7, timestamp: T0 - 1, step: 3 }, { key: 'other', value: 1, timestamp: T0, step: 0 });
    await store.logBatch(info.runId, { metrics });
    const history = (await store.getMetricHistory(info.runId, 'm')).items;
    const columns = await store.getMetricColumns(info.runId, 'm');
    assert.deepEqual(columns, { total: 7, steps: history.map((m) => m.step), values: history.map((m) => m.value), timestamps: history.map((m) => m.timestamp) });
    assert.deepEqual(columns.steps, [0, 1, 2, 3, 3, 4, 5]);
    assert.deepEqual(columns.values, [2 ** 53, -1e-300, 0.1 + 0.2, 7, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN]);
    assert.deepEqual(await store.getMetricColumns(info.runId, 'nothing'), { total: 0, steps: [], values: [], timestamps: [] });
    assert.deepEqual(await store.getMetricColumns(info.runId, 'nothing', { maxPoints: 10 }), { total: 0, steps: [], values: [], timestamps: [] });
    await rejectsWithCode(store.getMetricColumns('0'.repeat(32), 'm'), 'NOT_FOUND');
  });

  test('downsamples in the database: the ends, and per bucket the earliest min and max of its finite values', async (store) => {
    const { info } = await store.createRun({});
    // 11 points in history order (step 4 logged twice, the later timestamp first); maxPoints 8
    // gives 3 buckets of the 9 inner points: [1, 4), [4, 7), [7, 10).
    const points: [step: number, timestamp: number, value: number][] = [
      [0, 0, 5],
      [1, 0, Number.NaN], [2, 0, 3], [3, 0, Number.NEGATIVE_INFINITY], // one finite value: kept once
      [4, 0, 9], [4, 1, 2], [5, 0, 2], // max before min; the min's tie goes to the earlier point
      [6, 0, Number.POSITIVE_INFINITY], [7, 0, Number.NaN], [8, 0, Number.POSITIVE_INFINITY], // nothing finite: its first point
      [9, 0, Number.NaN], // the last point, kept whatever it is
    ];
    await store.logBatch(info.runId, { metrics: points.reverse().map(([step, t, value]) => ({ key: 'm', value, step, timestamp: T0 + t })) });
    const kept = await store.getMetricColumns(info.runId, 'm', { maxPoints: 8 });
    assert.deepEqual(kept, {
      total: 11,
      steps: [0, 2, 4, 4, 6, 9],
      values: [5, 3, 9, 2, Number.POSITIVE_INFINITY, Number.NaN],
      timestamps: [T0, T0, T0, T0 + 1, T0, T0],
    });
    // maxPoints 0 keeps everything, as does any maxPoints at or above the length.
    for (const maxPoints of [0, 11, 12]) assert.equal((await store.getMetricColumns(info.runId, 'm', { maxPoints })).steps.length, 11, `maxPoints ${maxPoints}`);
    for (const maxPoints of [-1, 2.5, Number.NaN]) await rejectsWithCode(store.getMetricColumns(info.runId, 'm', { maxPoints }), 'INVALID_ARGUMENT', 'maxPoints');
  });

  test('downsampling keeps short histories whole and matches the documented buckets on long ones', async (store) => {
    // Fewer points than buckets, exactly maxPoints points, one more, and maxPoints below 4 (taken as 4).
    const short = [3, 1, 2];
    const shortRun = await runLogging(store, 'm', short);
    assert.deepEqual((await store.getMetricColumns(shortRun, 'm', { maxPoints: 100 })).values, short);
    assert.deepEqual((await store.getMetricColumns(shortRun, 'm', { maxPoints: 1 })).steps, [0, 1, 2]);
    const two = await runLogging(store, 'm', [1, 2]);
    assert.deepEqual((await store.getMetricColumns(two, 'm', { maxPoints: 1 })).steps, [0, 1], 'no point twice');

    let seed = 11;
    const noise = () => (seed = (seed * 48271) % 2147483647) / 2147483647 - 0.5;
    const long = Array.from({ length: 2_003 }, (_, i) => Math.exp(-i / 500) + noise());
    // Odd values scattered, a run of them filling whole buckets, and ties.
    for (let i = 5; i < long.length; i += 97) long[i] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][i % 3]!;
    for (let i = 1000; i < 1100; i++) long[i] = Number.NaN;
    for (let i = 1500; i < 1510; i++) long[i] = 0.25;
    const longRun = await runLogging(store, 'm', long);
    for (const maxPoints of [2, 8, 9, 37, 100, 4000, 2_002, 2_003]) {
      const kept = expectedKept(long, maxPoints);
      const columns = await store.getMetricColumns(longRun, 'm', { maxPoints });
      assert.deepEqual(columns, { total: long.length, steps: kept, values: kept.map((i) => long[i]!), timestamps: kept.map((i) => T0 + i) }, `maxPoints ${maxPoints}`);
      assert.ok(columns.steps.length <= Math.max(4, maxPoints), `at most maxPoints (${maxPoints}) points`);
    }
    const exact = long.slice(0, 37);
    const exactRun = await runLogging(store, 'm', exact);
    assert.equal((await store.getMetricColumns(exactRun, 'm', { maxPoints: 37 })).steps.length, 37, 'exactly maxPoints points stay whole');
    assert.deepEqual((await store.getMetricColumns(exactRun, 'm', { maxPoints: 36 })).steps, expectedKept(exact, 36));
  });
}
