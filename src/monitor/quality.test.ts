import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../core/random.js';
import { aucRoc, confusionAt, rates } from '../evaluate/binary-metrics.js';
import { fitCbpe } from './cbpe.js';
import { windowQuality } from './quality.js';

test('each window has its estimate over every row, its measured quality over the labelled rows, and per-slice figures beside the offline ones', () => {
  const random = mulberry32(7);
  const n = 4_000;
  const scores = Float64Array.from({ length: n }, () => random());
  const truth = Float64Array.from(scores, (s) => (random() < s ? 1 : 0));
  // Window "b" has labels only for every other row; window "a" for all.
  const windows = Array.from({ length: n }, (_, i) => (i < n / 2 ? 'a' : 'b'));
  const labels = Float64Array.from(truth, (y, i) => (i >= n / 2 && i % 2 === 1 ? Number.NaN : y));
  const origin = Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 'SFO' : 'ATL'));
  const estimator = fitCbpe(scores, truth, { calibration: 'never' });
  const offline = { metrics: { auc: 0.7, accuracy: 0.66 }, slices: [{ spec: 'origin', key: 'origin:ATL', metrics: { auc: 0.71 } }] };
  const result = windowQuality({ windows, scores, labels, features: { origin } }, { estimator, offline, slices: [{ name: 'origin', columns: [{ feature: 'origin' }] }], minSliceSize: 250 });

  assert.deepEqual(result.map((w) => [w.window, w.rows, w.labelled]), [['a', 2000, 2000], ['b', 2000, 1000]]);
  const labelledB = Array.from({ length: n }, (_, i) => i).filter((i) => i >= n / 2 && i % 2 === 0);
  const s = Float64Array.from(labelledB, (i) => scores[i]!);
  const y = Float64Array.from(labelledB, (i) => truth[i]!);
  const b = result[1]!;
  assert.equal(b.measured!.auc, aucRoc(s, y));
  assert.equal(b.measured!.f1, rates(confusionAt(s, y, 0.5)).f1);
  assert.equal(b.estimated.rows, 2000);
  // Calibrated scores: the estimate is close to what the labels measure.
  assert.ok(Math.abs(b.estimated.accuracy - b.measured!.accuracy) < 0.04, JSON.stringify(b));
  assert.deepEqual(b.offline, offline.metrics);
  // 200 labelled SFO rows (every tenth row, all even) in window b are under the minimum: reported without metrics.
  assert.deepEqual(b.slices.map((sl) => [sl.key, sl.labelled, sl.measured === null, sl.offline]), [
    ['origin:ATL', 800, false, { auc: 0.71 }],
    ['origin:SFO', 200, true, null],
  ]);
});

test('a window without labels has an estimate and no measured figures', () => {
  const estimator = fitCbpe([0.1, 0.9], [0, 1], { calibration: 'never' });
  const [only] = windowQuality({ windows: ['w', 'w'], scores: Float64Array.of(0.2, 0.8), labels: Float64Array.of(Number.NaN, Number.NaN), features: {} }, { estimator });
  assert.equal(only!.measured, null);
  assert.equal(only!.labelled, 0);
  assert.equal(only!.estimated.accuracy, 0.8);
});
