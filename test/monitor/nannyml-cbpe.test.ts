/**
 * Loom's confidence-based performance estimates equal NannyML's CBPE on the same windows:
 * a logistic-regression flights model trained by Loom's own components on January, its
 * estimator fitted on its evaluation split, and one window per later month (February to
 * June) scored by the served ONNX graph.
 *
 * Tolerance. Accuracy, precision, recall and F1 are sums over the same calibrated
 * probabilities (the isotonic map is scikit-learn's, which NannyML uses), so they agree to
 * 1e-9. ROC AUC differs by design where scores tie: Loom lets a group of equal scores form
 * one diagonal step of the expected curve (as the measured AUC does), NannyML walks the
 * group's rows in numpy's sort order and rounds the cumulative sums to 5 decimals. The
 * walk of one group can add or lose at most half the rectangle its step spans, so the
 * difference is bounded by the sum over tie groups of dx * dy / 2, plus the rounding; the
 * test computes that bound from the window and checks the AUC against it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runModelOverParquet } from '../../src/data/batch-runner.js';
import { sqlString, withDuckDB } from '../../src/data/duckdb.js';
import { calibrate } from '../../src/monitor/calibration.js';
import { ESTIMATED_METRICS, estimateQuality, fitCbpe, type CbpeEstimator } from '../../src/monitor/cbpe.js';
import { scoreEvaluationData } from '../../src/evaluate/scoring.js';
import { makeTempDir, writeFlightsSlice } from '../support/flights.js';
import { runPythonJson, testNannymlPython } from '../support/python.js';
import { buildServingModel, LABEL_COLUMN } from '../support/serving-model.js';

const SCRIPT = new URL('../python/nannyml_cbpe.py', import.meta.url).pathname;
// Near the share of delayed flights: at 0.5 this model predicts almost no delay, and
// precision, recall and F1 would be 0 on both sides, comparing nothing.
const THRESHOLD = 0.2;
const python = testNannymlPython();

let removeDir: (() => Promise<void>) | undefined;
after(() => removeDir?.());
let reference: { scores: Float64Array; labels: Float64Array };
const windows: { month: number; scores: number[] }[] = [];

before(async () => {
  if (!python) return;
  const dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  const fixture = await buildServingModel(dir, { months: [1], every: 100 });
  const model = join(fixture.servingModel.path, 'model.onnx');
  const scored = await scoreEvaluationData(model, join(fixture.examples.path, 'eval', 'data.parquet'), { task: 'binary', predictionOutput: 'probability', labelColumn: LABEL_COLUMN, features: [] });
  reference = { scores: scored.predictions.scores, labels: scored.predictions.labels };
  // The later months as live traffic: the same raw features the model takes.
  const raw = join(dir, 'later.parquet');
  const live = join(dir, 'live.parquet');
  await writeFlightsSlice(raw, { months: [2, 3, 4, 5, 6], every: 400 });
  await withDuckDB((db) =>
    db.run(`COPY (SELECT hour(date)::BIGINT AS hour, dayofweek(date)::BIGINT AS weekday, distance::BIGINT AS distance, origin, destination, month(date)::INTEGER AS month
      FROM read_parquet(${sqlString(raw)})) TO ${sqlString(live)} (FORMAT PARQUET)`),
  );
  const byMonth = new Map<number, number[]>();
  await runModelOverParquet(model, live, {
    extraColumns: ['month'],
    onBatch({ rowCount, outputs, extra }) {
      for (let i = 0; i < rowCount; i++) {
        const month = Number(extra.month![i]);
        if (!byMonth.has(month)) byMonth.set(month, []);
        byMonth.get(month)!.push(outputs.probability![i]!);
      }
    },
  });
  for (const [month, scores] of [...byMonth].sort(([a], [b]) => a - b)) windows.push({ month, scores });
});

/** The most the AUC of one walk through each tie group can differ from the diagonal step, plus NannyML's rounding. */
function tieBound(estimator: CbpeEstimator, scores: number[]): number {
  const p = estimator.calibration ? calibrate(estimator.calibration, scores) : Float64Array.from(scores);
  const positives = p.reduce((a, b) => a + b, 0);
  const negatives = scores.length - positives;
  const groups = new Map<number, { tp: number; fp: number }>();
  scores.forEach((s, i) => {
    const g = groups.get(s) ?? { tp: 0, fp: 0 };
    g.tp += p[i]!;
    g.fp += 1 - p[i]!;
    groups.set(s, g);
  });
  let bound = 0;
  for (const g of groups.values()) bound += (g.tp / positives) * (g.fp / negatives) / 2;
  // Cumulative sums rounded to 1e-5 move each point by at most 1e-5 / total on each axis.
  return bound + 2 * (1e-5 / positives + 1e-5 / negatives) + 1e-9;
}

for (const calibration of ['auto', 'always'] as const) {
  test(`Loom's estimated quality per month equals NannyML CBPE's on the same windows (calibration ${calibration})`, { skip: !python && 'LOOM_TEST_NANNYML_PYTHON is not set' }, () => {
    assert.ok(reference.scores.length > 500, `an evaluation split of ${reference.scores.length} rows`);
    assert.equal(windows.length, 5);
    const estimator = fitCbpe(reference.scores, reference.labels, { threshold: THRESHOLD, calibration });
    const theirs = runPythonJson<{ calibrated: boolean; windows: Record<string, number>[] }>(
      python!,
      SCRIPT,
      [],
      JSON.stringify({ reference: { scores: [...reference.scores], labels: [...reference.labels] }, windows: windows.map((w) => w.scores), threshold: THRESHOLD, calibrate: estimator.calibration !== undefined }),
    );
    assert.equal(theirs.calibrated, estimator.calibration !== undefined);
    windows.forEach((window, k) => {
      const ours = estimateQuality(estimator, window.scores);
      const nannyml = theirs.windows[k]!;
      for (const metric of ESTIMATED_METRICS) {
        const theirsName = metric === 'auc' ? 'roc_auc' : metric;
        const tolerance = metric === 'auc' ? tieBound(estimator, window.scores) : 1e-9;
        const difference = Math.abs(ours[metric] - nannyml[theirsName]!);
        assert.ok(difference <= tolerance, `month ${window.month} ${metric}: Loom ${ours[metric]}, NannyML ${nannyml[theirsName]} (difference ${difference}, tolerance ${tolerance})`);
      }
      // The estimate is a real one: every metric strictly between 0 and 1.
      for (const metric of ESTIMATED_METRICS) assert.ok(ours[metric] > 0 && ours[metric] < 1, `month ${window.month}: ${JSON.stringify(ours)}`);
    });
  });
}
