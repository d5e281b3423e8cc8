import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { aboveMedianWage, logisticScores, readCpsWages, type CpsWorker } from '../../test/evaluate/cps-wages.js';
import { evaluationConfig, type EvaluationConfigInput } from './config.js';
import { analyzeModel } from './evaluator.js';
import { subset, taskMetrics, type Predictions } from './metrics.js';

let workers: CpsWorker[];
let candidate: Predictions;
let baseline: Predictions;
let features: Record<string, unknown[]>;

before(async () => {
  workers = await readCpsWages();
  const labels = aboveMedianWage(workers);
  candidate = { task: 'binary', scores: logisticScores(workers, labels, 40), labels: Float64Array.from(labels) };
  // One epoch: a weaker model over the same features, the baseline to compare with.
  baseline = { task: 'binary', scores: logisticScores(workers, labels, 1), labels: Float64Array.from(labels) };
  features = {
    gender: workers.map((w) => w.gender),
    race: workers.map((w) => w.race),
    occupation: workers.map((w) => w.occupation),
    age: workers.map((w) => w.age),
  };
});

const analyze = (config: EvaluationConfigInput, withBaseline = true) =>
  analyzeModel({ config: evaluationConfig.parse(config), candidate, baseline: withBaseline ? baseline : undefined, features });

test('a metric table per slice, with example counts, baseline metrics and small slices flagged', () => {
  const result = analyze({ slices: [{ columns: [{ feature: 'occupation' }] }, { columns: [{ feature: 'gender' }, { feature: 'age', boundaries: [30, 45] }] }], minSliceSize: 40, bootstrap: { resamples: 0 } });
  const occupations = result.slices.filter((s) => s.spec === 'occupation');
  assert.equal(occupations.reduce((n, s) => n + s.exampleCount, 0), workers.length, 'value slices cover every row');
  const sales = occupations.find((s) => s.key === 'occupation:sales')!;
  const rows = workers.flatMap((w, i) => (w.occupation === 'sales' ? [i] : []));
  assert.equal(sales.exampleCount, rows.length);
  assert.deepEqual(sales.metrics, taskMetrics(subset(candidate, rows)));
  assert.deepEqual(sales.baselineMetrics, taskMetrics(subset(baseline, rows)));
  assert.equal(sales.small, rows.length < 40);
  const crossed = result.slices.filter((s) => s.spec === 'gender x age');
  assert.equal(crossed.length, 6);
  assert.ok(crossed.some((s) => s.key === 'gender:female, age:[30, 45)'));
  assert.ok(result.slices.some((s) => s.small) && result.slices.some((s) => !s.small));
});

test('per-slice thresholds judge every slice but the small ones; any failure refuses the blessing', () => {
  const result = analyze({
    slices: [{ name: 'job', columns: [{ feature: 'occupation' }] }],
    minSliceSize: 60,
    thresholds: [
      { metric: 'auc', value: { lowerBound: 0.5 } },
      { metric: 'accuracy', slice: 'job', value: { lowerBound: 0.99 } },
    ],
    bootstrap: { resamples: 0 },
  });
  const perSlice = result.thresholds.filter((c) => c.metric === 'accuracy');
  assert.equal(perSlice.length, result.slices.length);
  for (const check of perSlice) {
    const slice = result.slices.find((s) => s.key === check.target)!;
    assert.equal(check.passed, slice.small ? null : slice.metrics.accuracy! >= 0.99);
  }
  assert.equal(result.blessing.blessed, false);
  assert.equal(result.blessing.failed, perSlice.filter((c) => c.passed === false).length);
  assert.match(result.blessing.reason, /accuracy on occupation:/);
});

test('change thresholds compare with the baseline on the same rows; a better candidate is blessed', () => {
  const result = analyze({ thresholds: [{ metric: 'auc', change: { absolute: 0 } }, { metric: 'log_loss', change: { absolute: 0 } }], bootstrap: { resamples: 0 } });
  assert.ok(result.metrics.auc! > result.baselineMetrics!.auc!, 'the trained model beats one epoch');
  assert.equal(result.blessing.blessed, true, result.blessing.reason);
  const reversed = analyzeModel({ config: evaluationConfig.parse({ thresholds: [{ metric: 'auc', change: { absolute: 0 } }], bootstrap: { resamples: 0 } }), candidate: baseline, baseline: candidate, features });
  assert.equal(reversed.blessing.blessed, false);
  const first = analyze({ thresholds: [{ metric: 'auc', change: { absolute: 0 } }], bootstrap: { resamples: 0 } }, false);
  assert.equal(first.blessing.blessed, true);
  assert.equal(first.thresholds[0]!.passed, null);
});

test('fairness thresholds gate on a disparity of a fairness spec', () => {
  const config = { fairness: [{ features: ['gender'] }], bootstrap: { resamples: 0 } };
  const base = analyze(config);
  const gap = base.fairness[0]!.report.disparities.demographic_parity_difference;
  const strict = analyze({ ...config, thresholds: [{ metric: 'demographic_parity_difference', fairness: 'gender', value: { upperBound: gap / 2 } }] });
  assert.equal(strict.blessing.blessed, false);
  assert.match(strict.blessing.reason, /demographic_parity_difference on gender/);
  const loose = analyze({ ...config, thresholds: [{ metric: 'demographic_parity_difference', fairness: 'gender', value: { upperBound: gap + 0.01 } }] });
  assert.equal(loose.blessing.blessed, true);
});

test('bootstrap intervals are seeded, bracket the estimate, and narrow with more data', () => {
  const config = { bootstrap: { resamples: 200, seed: 3 } };
  const a = analyze(config).confidenceIntervals;
  assert.deepEqual(analyze(config).confidenceIntervals, a, 'the same seed gives the same intervals');
  assert.notDeepEqual(analyze({ bootstrap: { resamples: 200, seed: 4 } }).confidenceIntervals, a);
  const metrics = taskMetrics(candidate);
  for (const name of ['auc', 'auc_pr', 'log_loss', 'accuracy', 'f1', 'brier_score']) {
    assert.ok(a[name]!.lower < metrics[name]! && metrics[name]! < a[name]!.upper, `${name} ${metrics[name]} in [${a[name]!.lower}, ${a[name]!.upper}]`);
    assert.equal(a[name]!.resamples, 200);
  }
  assert.equal(a.example_count, undefined);
  // Half the rows: a wider AUC interval.
  const half = Array.from({ length: Math.floor(workers.length / 2) }, (_, i) => i * 2);
  const narrow = a.auc!.upper - a.auc!.lower;
  const wide = analyzeModel({ config: evaluationConfig.parse(config), candidate: subset(candidate, half), features: {} }).confidenceIntervals.auc!;
  assert.ok(wide.upper - wide.lower > narrow, `${wide.upper - wide.lower} > ${narrow}`);
});

test('each slice has bootstrap intervals of its own rows, wider than the overall ones; none without resamples', () => {
  const config = { slices: [{ columns: [{ feature: 'gender' }] }], bootstrap: { resamples: 200, seed: 3 } };
  const result = analyze(config);
  for (const slice of result.slices) {
    const rows = workers.flatMap((w, i) => (`gender:${w.gender}` === slice.key ? [i] : []));
    const alone = analyzeModel({ config: evaluationConfig.parse(config), candidate: subset(candidate, rows), features: {} }).confidenceIntervals;
    assert.deepEqual(slice.confidenceIntervals, alone, `${slice.key}: the intervals of its rows alone`);
    const auc = slice.confidenceIntervals.auc!;
    assert.ok(auc.lower < slice.metrics.auc! && slice.metrics.auc! < auc.upper, `${slice.key} auc in its interval`);
    assert.ok(auc.upper - auc.lower > result.confidenceIntervals.auc!.upper - result.confidenceIntervals.auc!.lower, `${slice.key}: fewer rows, a wider interval`);
  }
  assert.ok(analyze({ ...config, bootstrap: { resamples: 0 } }).slices.every((s) => Object.keys(s.confidenceIntervals).length === 0));
});
