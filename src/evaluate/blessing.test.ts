import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkThreshold, decideBlessing } from './blessing.js';
import { metricThresholdSchema } from './config.js';

const threshold = (raw: unknown) => metricThresholdSchema.parse(raw);
const overall = (auc: number, baselineAuc?: number, extra: Record<string, number> = {}) => ({
  name: 'overall',
  metrics: { auc, log_loss: 0.5, ...extra },
  baselineMetrics: baselineAuc === undefined ? undefined : { auc: baselineAuc, log_loss: 0.45 },
});

test('value thresholds: bounds are inclusive, NaN fails', () => {
  const t = threshold({ metric: 'auc', value: { lowerBound: 0.6, upperBound: 0.99 } });
  assert.equal(checkThreshold(t, [overall(0.6)])[0]!.passed, true);
  assert.equal(checkThreshold(t, [overall(0.59)])[0]!.passed, false);
  assert.equal(checkThreshold(t, [overall(0.995)])[0]!.passed, false);
  assert.equal(checkThreshold(t, [overall(Number.NaN)])[0]!.passed, false);
  assert.match(checkThreshold(t, [overall(0.59)])[0]!.reason, /auc on overall is 0\.59, required >= 0\.6 and <= 0\.99/);
});

test('change thresholds follow the metric direction: auc up is better, log loss down is better', () => {
  const auc = threshold({ metric: 'auc', change: { absolute: 0 } });
  assert.equal(checkThreshold(auc, [overall(0.70, 0.70)])[0]!.passed, true, 'a tie is not worse');
  assert.equal(checkThreshold(auc, [overall(0.69, 0.70)])[0]!.passed, false);
  const margin = threshold({ metric: 'auc', change: { absolute: 0.01 } });
  assert.equal(checkThreshold(margin, [overall(0.70, 0.69)])[0]!.passed, true, '0.70 - 0.69 reaches a 0.01 margin despite binary fractions');
  const tolerant = threshold({ metric: 'auc', change: { absolute: -0.02 } });
  assert.equal(checkThreshold(tolerant, [overall(0.69, 0.70)])[0]!.passed, true);
  // Candidate log loss 0.5 vs baseline 0.45: worse, since lower is better.
  const logLoss = threshold({ metric: 'log_loss', change: { absolute: 0 } });
  assert.equal(checkThreshold(logLoss, [overall(0.7, 0.7)])[0]!.passed, false);
  const relative = threshold({ metric: 'auc', change: { relative: 0.1 } });
  assert.equal(checkThreshold(relative, [overall(0.66, 0.6)])[0]!.passed, true);
  assert.equal(checkThreshold(relative, [overall(0.65, 0.6)])[0]!.passed, false);
  const flipped = threshold({ metric: 'auc', change: { absolute: 0, direction: 'lower_is_better' } });
  assert.equal(checkThreshold(flipped, [overall(0.65, 0.7)])[0]!.passed, true);
});

test('change thresholds are not judged without a baseline; small slices are never judged', () => {
  const t = threshold({ metric: 'auc', value: { lowerBound: 0.9 }, change: { absolute: 0 } });
  const [value, change] = checkThreshold(t, [overall(0.7)]);
  assert.equal(value!.passed, false);
  assert.equal(change!.passed, null);
  assert.match(change!.reason, /no baseline/);
  const small = checkThreshold(t, [{ ...overall(0.1, 0.9), name: 'origin:XYZ', small: true }]);
  assert.deepEqual(small.map((c) => c.passed), [null, null]);
});

test('the blessing: blessed when nothing failed; the reason names failures and counts', () => {
  const t = threshold({ metric: 'auc', value: { lowerBound: 0.6 }, change: { absolute: 0 } });
  const good = decideBlessing(checkThreshold(t, [overall(0.7, 0.65)]), true);
  assert.deepEqual({ blessed: good.blessed, passed: good.passed, failed: good.failed }, { blessed: true, passed: 2, failed: 0 });
  const bad = decideBlessing(checkThreshold(t, [overall(0.64, 0.65)]), true);
  assert.equal(bad.blessed, false);
  assert.match(bad.reason, /^not blessed: 1 of 2 threshold checks failed: auc on overall: candidate 0\.64 vs baseline 0\.65/);
  assert.equal(bad.failures.length, 1);
  const first = decideBlessing(checkThreshold(t, [overall(0.64)]), false);
  assert.equal(first.blessed, true);
  assert.match(first.reason, /no baseline/);
  assert.match(decideBlessing([], true).reason, /no thresholds/);
});
