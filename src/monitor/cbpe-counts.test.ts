import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../core/random.js';
import { withDuckDB } from '../data/duckdb.js';
import { calibrate } from './calibration.js';
import { countScores, estimateQuality, estimateQualityOfCounts, fitCbpe, readScoreCounts, readWindowScoreCounts, type CbpeEstimator, type QualityEstimate, type ScoreCounts } from './cbpe.js';

/**
 * The estimate row by row, as it was computed before scores were counted: every row's
 * calibrated probability added in score order, one curve step per run of equal scores.
 * The oracle the counted estimate must equal to the last bit.
 */
function perRow(estimator: CbpeEstimator, rows: number[]): QualityEstimate {
  const sorted = Float64Array.from(rows).sort();
  const p = estimator.calibration ? calibrate(estimator.calibration, sorted) : sorted;
  let [tp, fp, fn, tn, totalP] = [0, 0, 0, 0, 0];
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i]! >= estimator.threshold) [tp, fp] = [tp + p[i]!, fp + (1 - p[i]!)];
    else [fn, tn] = [fn + p[i]!, tn + (1 - p[i]!)];
    totalP += p[i]!;
  }
  const totalN = sorted.length - totalP;
  let [area, ctp, cfp, px, py] = [0, 0, 0, 0, 0];
  for (let k = sorted.length - 1; k >= 0; k--) {
    ctp += p[k]!;
    cfp += 1 - p[k]!;
    if (k > 0 && sorted[k - 1] === sorted[k]) continue;
    const [x, y] = [cfp / totalN, ctp / totalP];
    area += ((x - px) * (y + py)) / 2;
    [px, py] = [x, y];
  }
  const n = sorted.length;
  return {
    rows: n,
    auc: totalP > 0 && totalN > 0 ? area : Number.NaN,
    accuracy: n > 0 ? (tp + tn) / n : Number.NaN,
    precision: tp + fp > 0 ? tp / (tp + fp) : 0,
    recall: tp + fn > 0 ? tp / (tp + fn) : 0,
    f1: 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0,
  };
}

/** Reference rows (scores in steps of 0.001, labels 1 with probability score²) and a window's scores with many ties. */
function data(seed: number): { reference: { scores: number[]; labels: number[] }; window: number[] } {
  const random = mulberry32(seed);
  const scores = Array.from({ length: 20_000 }, () => Math.round(random() * 1000) / 1000);
  const labels = scores.map((s) => (random() < s * s ? 1 : 0));
  // Ties (two decimals), a few unique scores, 0 and -0 (equal), and scores outside the fitted range.
  const window = Array.from({ length: 30_000 }, (_, i) => (i % 7 === 0 ? random() : Math.round(random() * 100) / 100));
  window.push(0, -0, -0, 1.5, -0.5, 0.5, 0.5);
  return { reference: { scores, labels }, window };
}

test('the estimate from distinct scores counted in DuckDB equals the row-by-row estimate to the last bit', async () => {
  const { reference, window } = data(21);
  for (const calibration of ['always', 'never'] as const) {
    const estimator = fitCbpe(reference.scores, reference.labels, { calibration });
    assert.equal(Boolean(estimator.calibration), calibration === 'always');
    const expected = perRow(estimator, window);
    assert.deepEqual(estimateQuality(estimator, window), expected);
    await withDuckDB(async (db) => {
      await db.run('CREATE OR REPLACE TABLE w (score DOUBLE)');
      const appender = await db.createAppender('w');
      for (const s of window) {
        appender.appendDouble(s);
        appender.endRow();
      }
      appender.appendNull();
      appender.endRow();
      appender.closeSync();
      const counts = await readScoreCounts(db, 'SELECT * FROM w', 'score');
      assert.ok(counts.scores.length < window.length / 5, 'the window has ties, so its distinct scores are far fewer than its rows');
      // The row without a score is left out.
      assert.deepEqual(estimateQualityOfCounts(estimator, counts), expected);
    });
  }
});

test('NaN scores are each their own step, as among rows; malformed counts are refused', async () => {
  const estimator = fitCbpe([0.2, 0.8], [0, 1], { calibration: 'never' });
  const rows = [0.9, 0.5, Number.NaN, 0.5, 0.1, Number.NaN];
  await withDuckDB(async (db) => {
    const counts = await readScoreCounts(db, `SELECT unnest([0.9, 0.5, 'nan'::DOUBLE, 0.5, 0.1, 'nan'::DOUBLE]) AS s`, 's');
    assert.deepEqual([...counts.counts], [1, 2, 1, 1, 1]);
    assert.deepEqual(estimateQualityOfCounts(estimator, counts), perRow(estimator, rows));
  });
  const refused = (scores: number[], counts: number[]) => assert.throws(() => estimateQualityOfCounts(estimator, { scores: Float64Array.from(scores), counts: Float64Array.from(counts) }), { code: 'INVALID_ARGUMENT' });
  refused([0.1, 0.2], [1]);
  refused([0.2, 0.1], [1, 1]);
  refused([0.1, 0.1], [1, 1]);
  refused([0.1, 0.2], [1, 0.5]);
  refused([Number.NaN, 0.2], [1, 1]);
});

test('scores counted per window: the same counts whether DuckDB groups them (scores repeat) or they are read and counted in JS (scores differ), NaN, -0, NULL scores and windows included', async () => {
  const random = mulberry32(5);
  // Three windows (keys 10, 20, 30) and rows without a window; NaN, -0 and NULL scores among them.
  const special = [Number.NaN, -0, 0, null];
  const rows = (repeat: boolean) =>
    Array.from({ length: 3000 }, (_, i) => ({
      w: i % 97 === 0 ? null : [10, 20, 30][i % 3]!,
      s: i % 50 === 0 ? special[(i / 50) % special.length]! : repeat ? Math.round(random() * 20) / 20 : random(),
    }));
  await withDuckDB(async (db) => {
    for (const repeat of [true, false]) {
      const logged = rows(repeat);
      await db.run('CREATE OR REPLACE TABLE r (w BIGINT, s DOUBLE)');
      const appender = await db.createAppender('r');
      for (const { w, s } of logged) {
        if (w === null) appender.appendNull();
        else appender.appendBigInt(BigInt(w));
        if (s === null) appender.appendNull();
        else appender.appendDouble(s);
        appender.endRow();
      }
      appender.closeSync();
      // -0 and 0 are one score (equal); which of them names it does not matter, so both sides name it 0.
      const named = ({ scores, counts }: ScoreCounts) => ({ scores: scores.map((v) => v + 0), counts });
      const expected = new Map([10, 20, 30].map((key) => [key, named(countScores(logged.filter((r) => r.w === key && r.s !== null).map((r) => r.s!)))]));
      const windows = await readWindowScoreCounts(db, 'SELECT * FROM r', 's', 'w');
      assert.deepEqual(new Map([...windows].map(([key, counts]) => [key, named(counts)])), expected, repeat ? 'grouped in DuckDB' : 'counted in JS');
      // One window (every row's key the same): only the scores are read when they differ.
      assert.deepEqual(named(await readScoreCounts(db, 'SELECT * FROM r', 's')), named(countScores(logged.filter((r) => r.s !== null).map((r) => r.s!))));
    }
    assert.deepEqual(await readWindowScoreCounts(db, 'SELECT * FROM r WHERE false', 's', 'w'), new Map());
  });
});
