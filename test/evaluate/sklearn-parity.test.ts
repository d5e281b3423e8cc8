/**
 * Every metric of src/evaluate equals scikit-learn's on the same real predictions, to
 * 1e-9: a flights model's scores on its eval split, and Loom-trained models on the CPS
 * wages (binary, multiclass one-vs-rest, and a least-squares wage regression).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runModelOverParquet } from '../../src/data/batch-runner.js';
import { metricPlots, taskMetrics, type Predictions } from '../../src/evaluate/metrics.js';
import { makeTempDir } from '../support/flights.js';
import { runPythonJson, testPython } from '../support/python.js';
import { buildServingModel } from '../support/serving-model.js';
import { aboveMedianWage, cpsFeatures, logisticScores, readCpsWages } from './cps-wages.js';

const SCRIPT = new URL('../python/sklearn_metrics.py', import.meta.url).pathname;
const TOLERANCE = 1e-9;

interface Case extends Predictions {
  name: string;
  threshold?: number;
}

const cases: Case[] = [];
let removeDir: (() => Promise<void>) | undefined;
after(() => removeDir?.());

before(async () => {
  const dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  const fixture = await buildServingModel(dir);
  const scores: number[] = [];
  const labels: number[] = [];
  await runModelOverParquet(join(fixture.servingModel.path, 'model.onnx'), join(fixture.examples.path, 'eval', 'data.parquet'), {
    extraColumns: ['delayed'],
    onBatch({ rowCount, outputs, extra }) {
      for (let i = 0; i < rowCount; i++) {
        scores.push(outputs.probability![i]!);
        labels.push(extra.delayed![i] ? 1 : 0);
      }
    },
  });
  const flights = { task: 'binary' as const, scores: Float64Array.from(scores), labels: Float64Array.from(labels) };
  cases.push({ name: 'flights', ...flights });
  cases.push({ name: 'flights threshold 0.3', ...flights, threshold: 0.3 });
  // Rounded scores make many ties: AUC and AP must treat them exactly as sklearn does.
  cases.push({ name: 'flights ties', ...flights, scores: flights.scores.map((s) => Math.round(s * 20) / 20) });

  const workers = await readCpsWages();
  const wageLabels = aboveMedianWage(workers);
  const cps = { task: 'binary' as const, scores: logisticScores(workers, wageLabels), labels: Float64Array.from(wageLabels) };
  cases.push({ name: 'cps wages', ...cps });
  // Weights with zeros among them: sklearn drops zero-weight rows from its curves.
  cases.push({ name: 'cps weighted', ...cps, weights: Float64Array.from(workers, (w, i) => (i % 7 === 0 ? 0 : 1 + (w.age % 3))) });

  const occupations = [...new Set(workers.map((w) => w.occupation))].sort();
  const classes = occupations.length;
  const labelsByClass = workers.map((w) => occupations.indexOf(w.occupation));
  const perClass = occupations.map((_, k) => logisticScores(workers, Float32Array.from(labelsByClass, (l) => (l === k ? 1 : 0)), 20));
  const probabilities = new Float64Array(workers.length * classes);
  for (let i = 0; i < workers.length; i++) {
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += perClass[k]![i]!;
    for (let k = 0; k < classes; k++) probabilities[i * classes + k] = perClass[k]![i]! / sum;
  }
  cases.push({ name: 'cps occupation', task: 'multiclass', scores: probabilities, labels: Float64Array.from(labelsByClass), classes });

  cases.push({ name: 'cps wage regression', task: 'regression', scores: leastSquaresWage(workers), labels: Float64Array.from(workers, (w) => w.wage) });
});

/** Ordinary least squares of wage on the standardised features (normal equations, Gauss–Jordan). */
function leastSquaresWage(workers: Awaited<ReturnType<typeof readCpsWages>>): Float64Array {
  const { features, width } = cpsFeatures(workers);
  const k = width + 1;
  const a = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  for (let i = 0; i < workers.length; i++) {
    const x = [1, ...Array.from(features.subarray(i * width, (i + 1) * width))];
    for (let r = 0; r < k; r++) {
      for (let c = 0; c < k; c++) a[r]![c]! += x[r]! * x[c]!;
      a[r]![k]! += x[r]! * workers[i]!.wage;
    }
  }
  for (let p = 0; p < k; p++) {
    for (let r = 0; r < k; r++) {
      if (r === p) continue;
      const f = a[r]![p]! / a[p]![p]!;
      for (let c = p; c <= k; c++) a[r]![c]! -= f * a[p]![c]!;
    }
  }
  const beta = a.map((row, r) => row[k]! / row[r]!);
  return Float64Array.from(workers, (_, i) => beta[0]! + beta.slice(1).reduce((s, b, j) => s + b * features[i * width + j]!, 0));
}

function close(actual: number | null | undefined, expected: number | null | undefined, what: string): void {
  if (expected === null || expected === undefined) {
    assert.ok(actual === null || actual === undefined || !Number.isFinite(actual), `${what}: sklearn has no value, Loom ${actual}`);
    return;
  }
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) <= TOLERANCE, `${what}: Loom ${actual}, sklearn ${expected}`);
}

function closeArrays(actual: ArrayLike<number>, expected: (number | null)[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    // JSON cannot hold sklearn's leading +inf threshold: null stands for it.
    if (expected[i] === null) assert.ok(!Number.isFinite(a), `${what}[${i}]`);
    else close(a, expected[i], `${what}[${i}]`);
  }
}

test('binary, multiclass and regression metrics equal scikit-learn on real predictions (1e-9)', (t) => {
  const python = testPython();
  if (!python) return t.skip('LOOM_TEST_PYTHON is not set');
  const request = {
    cases: cases.map((c) => ({
      name: c.name,
      task: c.task,
      scores: Array.from(c.scores),
      labels: Array.from(c.labels),
      weights: c.weights ? Array.from(c.weights) : null,
      classes: c.classes,
      threshold: c.threshold ?? 0.5,
      bins: 10,
    })),
  };
  const reference = runPythonJson<Record<string, Record<string, unknown>>>(python, SCRIPT, [], JSON.stringify(request));
  let compared = 0;
  for (const c of cases) {
    const expected = reference[c.name]!;
    const metrics = taskMetrics(c, { threshold: c.threshold });
    const plots = metricPlots(c, { threshold: c.threshold, bins: 10 });
    for (const [name, value] of Object.entries(expected)) {
      if (typeof value === 'number' || value === null) {
        close(metrics[name], value, `${c.name} ${name}`);
        compared++;
      }
    }
    if (c.task === 'binary') {
      const confusion = plots.confusion!;
      assert.deepEqual([[confusion.tn, confusion.fp], [confusion.fn, confusion.tp]], expected.confusion, `${c.name} confusion`);
      const roc = expected.roc as Record<string, (number | null)[]>;
      closeArrays(plots.roc!.fpr, roc.fpr!, `${c.name} roc fpr`);
      closeArrays(plots.roc!.tpr, roc.tpr!, `${c.name} roc tpr`);
      closeArrays(plots.roc!.thresholds, roc.thresholds!, `${c.name} roc thresholds`);
      const pr = expected.pr as Record<string, (number | null)[]>;
      closeArrays(plots.pr!.precision, pr.precision!, `${c.name} pr precision`);
      closeArrays(plots.pr!.recall, pr.recall!, `${c.name} pr recall`);
      closeArrays(plots.pr!.thresholds, pr.thresholds!, `${c.name} pr thresholds`);
      const calibration = expected.calibration as Record<string, number[]> | undefined;
      if (calibration) {
        closeArrays(plots.calibration!.map((b) => b.fractionPositive), calibration.fraction_positive!, `${c.name} calibration`);
        closeArrays(plots.calibration!.map((b) => b.meanPrediction), calibration.mean_prediction!, `${c.name} calibration`);
      }
      compared += 8;
    } else if (c.task === 'multiclass') {
      assert.deepEqual(plots.confusionMatrix, expected.confusion);
    } else {
      const residuals = expected.residuals as { counts: number[]; edges: number[] };
      assert.deepEqual(plots.residuals!.counts, residuals.counts);
      closeArrays(plots.residuals!.edges, residuals.edges, 'residual edges');
    }
  }
  assert.ok(compared > 60, `compared ${compared} values`);
});
