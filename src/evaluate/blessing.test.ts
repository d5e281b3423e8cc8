import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { decideBlessing, higherIsBetter } from './blessing.js';

test('blessed without a baseline, and the reason says so', () => {
  const result = decideBlessing({ metrics: { auc: 0.71 }, metric: 'auc', higherIsBetter: true, minImprovement: 0.01 });
  assert.equal(result.blessed, true);
  assert.match(result.reason, /no baseline/);
  assert.match(result.reason, /0\.71/);
});

test('higher-is-better metric: better by the margin is blessed, less is not; reason names both numbers', () => {
  const better = decideBlessing({ metrics: { auc: 0.75 }, baselineMetrics: { auc: 0.7 }, metric: 'auc', higherIsBetter: true, minImprovement: 0.05 });
  assert.equal(better.blessed, true);
  assert.match(better.reason, /0\.75/);
  assert.match(better.reason, /0\.7\b/);
  const short = decideBlessing({ metrics: { auc: 0.74 }, baselineMetrics: { auc: 0.7 }, metric: 'auc', higherIsBetter: true, minImprovement: 0.05 });
  assert.equal(short.blessed, false);
  assert.match(short.reason, /not blessed/);
  assert.match(short.reason, /0\.74/);
});

test('exact decimal margin counts as met despite binary rounding', () => {
  const result = decideBlessing({ metrics: { accuracy: 0.7 }, baselineMetrics: { accuracy: 0.69 }, metric: 'accuracy', higherIsBetter: true, minImprovement: 0.01 });
  assert.equal(result.blessed, true);
});

test('with margin 0 a tie is blessed (not worse), a worse model is not', () => {
  assert.equal(decideBlessing({ metrics: { auc: 0.7 }, baselineMetrics: { auc: 0.7 }, metric: 'auc', higherIsBetter: true, minImprovement: 0 }).blessed, true);
  assert.equal(decideBlessing({ metrics: { auc: 0.69 }, baselineMetrics: { auc: 0.7 }, metric: 'auc', higherIsBetter: true, minImprovement: 0 }).blessed, false);
});

test('lower-is-better metric (log loss)', () => {
  assert.equal(higherIsBetter('log_loss'), false);
  assert.equal(higherIsBetter('auc'), true);
  const lower = decideBlessing({ metrics: { log_loss: 0.4 }, baselineMetrics: { log_loss: 0.5 }, metric: 'log_loss', higherIsBetter: false, minImprovement: 0.05 });
  assert.equal(lower.blessed, true);
  const higher = decideBlessing({ metrics: { log_loss: 0.52 }, baselineMetrics: { log_loss: 0.5 }, metric: 'log_loss', higherIsBetter: false, minImprovement: 0 });
  assert.equal(higher.blessed, false);
});

test('a candidate with an undefined metric is not blessed over a baseline; bad input is rejected', () => {
  assert.equal(decideBlessing({ metrics: { auc: Number.NaN }, baselineMetrics: { auc: 0.6 }, metric: 'auc', higherIsBetter: true, minImprovement: 0 }).blessed, false);
  const isInvalid = (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT';
  assert.throws(() => decideBlessing({ metrics: { auc: 0.7 }, metric: 'auc', higherIsBetter: true, minImprovement: -1 }), isInvalid);
  assert.throws(() => decideBlessing({ metrics: {}, metric: 'auc', higherIsBetter: true, minImprovement: 0 }), isInvalid);
});
