// GET /api/loom/runs/:runId/metric-history over a real SQLite project through Fastify's inject:
// the columns, the min/max downsampling (checked bucket by bucket against the logged points),
// every point with max_points=0, every key at once (metric-histories), and the refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { platformApp } from '../../../test/support/platform-app.js';

const T0 = 1_700_000_000_000;
interface Columns { key: string; total: number; steps: number[]; values: (number | null)[]; timestamps: number[] }

test('a long history comes back downsampled: first and last point, and every bucket’s min and max, kept in step order', async (t) => {
  const { server, db } = await platformApp(t);
  const { info } = await db.tracking.createRun({});
  const n = 10_001;
  // A noisy curve (a fixed linear congruential sequence), with one spike and one dip far from the ends.
  let seed = 7;
  const noise = () => ((seed = (seed * 48271) % 2147483647) / 2147483647) - 0.5;
  const values = Array.from({ length: n }, (_, i) => Math.exp(-i / n) + 0.05 * noise());
  values[3_333] = 50;
  values[7_777] = -50;
  // Logged out of order, in two batches: the route answers in step order.
  const metrics = values.map((value, step) => ({ key: 'loss', value, step, timestamp: T0 + step })).reverse();
  await db.tracking.logBatch(info.runId, { metrics: metrics.slice(0, 5000) });
  await db.tracking.logBatch(info.runId, { metrics: metrics.slice(5000) });
  await db.tracking.logBatch(info.runId, { metrics: [{ key: 'other', value: 1, step: 0, timestamp: T0 }] });

  const maxPoints = 100;
  const response = await server.inject(`/api/loom/runs/${info.runId}/metric-history?key=loss&max_points=${maxPoints}`);
  assert.equal(response.statusCode, 200);
  const h = response.json() as Columns;
  assert.equal(h.key, 'loss');
  assert.equal(h.total, n);
  assert.ok(h.steps.length <= maxPoints && h.steps.length > maxPoints / 2, `${h.steps.length} points`);
  assert.deepEqual([h.steps.length, h.timestamps.length], [h.values.length, h.values.length]);
  assert.deepEqual([h.steps[0], h.steps.at(-1)], [0, n - 1], 'first and last point kept');
  assert.ok(h.steps.every((s, i) => i === 0 || s > h.steps[i - 1]!), 'steps ascending, none twice');
  h.steps.forEach((s, i) => assert.deepEqual([h.values[i], h.timestamps[i]], [values[s], T0 + s], `point at step ${s} is the logged one`));
  assert.ok(h.values.includes(50) && h.values.includes(-50), 'the spike and the dip survive');
  // The documented buckets: the n-2 inner points in floor((maxPoints-2)/2) equal slices.
  const buckets = Math.floor((maxPoints - 2) / 2);
  const kept = new Set(h.steps);
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor((b * (n - 2)) / buckets);
    const to = 1 + Math.floor(((b + 1) * (n - 2)) / buckets);
    const slice = values.slice(from, to);
    const low = from + slice.indexOf(Math.min(...slice));
    const high = from + slice.indexOf(Math.max(...slice));
    assert.ok(kept.has(low) && kept.has(high), `bucket ${b} [${from}, ${to}) keeps its min (step ${low}) and max (step ${high})`);
  }

  const all = (await server.inject(`/api/loom/runs/${info.runId}/metric-history?key=loss&max_points=0`)).json() as Columns;
  assert.deepEqual(all.steps, values.map((_, i) => i));
  assert.deepEqual(all.values, values);
  const byDefault = (await server.inject(`/api/loom/runs/${info.runId}/metric-history?key=loss`)).json() as Columns;
  assert.ok(byDefault.steps.length <= 4000 && byDefault.steps.length > 3000, `default max_points: ${byDefault.steps.length}`);
});

test('a short history comes back whole, non-finite values as null; an unknown key is empty; bad queries and unknown runs are refused', async (t) => {
  const { server, db } = await platformApp(t);
  const { info } = await db.tracking.createRun({});
  await db.tracking.logBatch(info.runId, { metrics: [1, Number.NaN, 3].map((value, step) => ({ key: 'acc/train', value, step, timestamp: T0 + step })) });
  const short = (await server.inject(`/api/loom/runs/${info.runId}/metric-history?key=acc%2Ftrain&max_points=2`)).json() as Columns;
  assert.deepEqual(short, { key: 'acc/train', total: 3, steps: [0, 1, 2], values: [1, null, 3], timestamps: [T0, T0 + 1, T0 + 2] }, 'max_points below 4 still keeps first, last and one min/max pair');
  assert.deepEqual((await server.inject(`/api/loom/runs/${info.runId}/metric-history?key=nothing`)).json(), { key: 'nothing', total: 0, steps: [], values: [], timestamps: [] });

  for (const [query, field] of [['max_points=5', 'key'], ['key=acc&max_points=-1', 'max_points'], ['key=acc&max_points=many', 'max_points']] as const) {
    const bad = await server.inject(`/api/loom/runs/${info.runId}/metric-history?${query}`);
    assert.deepEqual([bad.statusCode, bad.json().error_code, bad.json().field], [400, 'INVALID_PARAMETER_VALUE', field], query);
  }
  const missing = await server.inject('/api/loom/runs/0123456789abcdef0123456789abcdef/metric-history?key=acc');
  assert.deepEqual([missing.statusCode, missing.json().error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);
});

test('every metric of a run comes at once, by key, each as the one-key route answers it; bad queries and unknown runs are refused', async (t) => {
  const { server, db } = await platformApp(t);
  const { info } = await db.tracking.createRun({});
  const series = { zeta: Array.from({ length: 50 }, (_, i) => Math.cos(i)), 'acc/train': [1, Number.NaN, 3], loss: [0.5] };
  for (const [key, values] of Object.entries(series)) await db.tracking.logBatch(info.runId, { metrics: values.map((value, step) => ({ key, value, step, timestamp: T0 + step })) });
  for (const maxPoints of [10, 4000]) {
    const response = await server.inject(`/api/loom/runs/${info.runId}/metric-histories?max_points=${maxPoints}`);
    assert.equal(response.statusCode, 200);
    const { metrics } = response.json() as { metrics: Columns[] };
    assert.deepEqual(metrics.map((m) => m.key), ['acc/train', 'loss', 'zeta']);
    for (const m of metrics) {
      const one = (await server.inject(`/api/loom/runs/${info.runId}/metric-history?key=${encodeURIComponent(m.key)}&max_points=${maxPoints}`)).json() as Columns;
      assert.deepEqual(m, one, `${m.key} at max_points=${maxPoints}`);
    }
    assert.equal(metrics[2]!.steps.length, maxPoints === 10 ? 10 : 50, 'downsampled to max_points');
  }
  const { info: empty } = await db.tracking.createRun({});
  assert.deepEqual((await server.inject(`/api/loom/runs/${empty.runId}/metric-histories`)).json(), { metrics: [] });
  const bad = await server.inject(`/api/loom/runs/${info.runId}/metric-histories?max_points=-1`);
  assert.deepEqual([bad.statusCode, bad.json().error_code, bad.json().field], [400, 'INVALID_PARAMETER_VALUE', 'max_points']);
  const missing = await server.inject('/api/loom/runs/0123456789abcdef0123456789abcdef/metric-histories');
  assert.deepEqual([missing.statusCode, missing.json().error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);
});
