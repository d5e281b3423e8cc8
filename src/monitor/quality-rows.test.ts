import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withDuckDB } from '../data/duckdb.js';
import { ParquetPredictionSink } from '../serve/prediction-sinks.js';
import { openFreshKysely } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { KyselyLabelStore } from './kysely-label-store.js';
import { openPredictionLog } from './prediction-log-reader.js';
import { readQualityRows } from './quality-rows.js';

const START = Date.UTC(2026, 0, 5);

test('a range with no logged rows reads as empty columns, whether the labels are joined or looked up', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const sink = new ParquetPredictionSink(dir);
  await sink.write(
    Array.from({ length: 3 }, (_, i) => ({
      requestId: `r${i}`,
      modelName: 'flights',
      modelVersion: 1,
      role: 'primary' as const,
      protocol: 'v2',
      features: JSON.stringify({ origin: 'SFO' }),
      outputs: JSON.stringify({ probability: 0.25 * i }),
      latencyMs: 0.3,
      loggedAt: START + i,
    })),
  );
  await sink.close();
  const fresh = await openFreshKysely();
  t.after(() => fresh.close());
  const labels = new KyselyLabelStore(fresh.db);
  const read = () =>
    withDuckDB(async (db) => {
      // A range after every logged row: the window has no rows at all.
      const log = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights', from: START + 1000 });
      try {
        return await readQualityRows(db, log.relation, labels, { model: 'flights', window: { kind: 'daily' }, score: `TRY_CAST(outputs ->> 'probability' AS DOUBLE)`, features: { origin: `(features ->> 'origin')` } });
      } finally {
        await log.close();
      }
    });
  const empty = { labelled: { windows: [], scores: new Float64Array(0), labels: new Float64Array(0), features: { origin: [] } }, windows: [], multiRowRequests: 0 };
  // No labels: as many as the (zero) rows, so they are joined.
  assert.deepEqual(await read(), empty);
  // One label: more than the rows, so the rows' ids are looked up.
  await labels.putLabels([{ requestId: 'r0', modelName: 'flights', label: 1 }], 'feedback');
  assert.deepEqual(await read(), empty);
});

test('windows of N requests count every logged row in time order, scored or not; time windows come in time order whatever the files order; labels and slice features only where a label can name its row', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const HOUR = 3_600_000;
  // Eight requests over three hours, written newest file first: r3 logs no score, r5 is logged twice (its label cannot name a row).
  const row = (id: string, at: number, score: number | undefined, origin: string) => ({
    requestId: id,
    modelName: 'flights',
    modelVersion: 1,
    role: 'primary' as const,
    protocol: 'v2',
    features: JSON.stringify({ origin, distance: 100 * at }),
    outputs: JSON.stringify(score === undefined ? { label: 1 } : { probability: score }),
    latencyMs: 0.3,
    loggedAt: START + at * HOUR + Math.round(10 * at),
  });
  const later = new ParquetPredictionSink(dir);
  await later.write([row('r5', 2, 0.5, 'ATL'), row('r6', 2.5, 0.6, 'SFO'), row('r5', 2.6, 0.55, 'ATL'), row('r7', 2.7, 0.7, 'ATL')]);
  await later.close();
  const earlier = new ParquetPredictionSink(dir);
  await earlier.write([row('r2', 1, 0.2, 'SFO'), row('r0', 0, 0.0, 'ATL'), row('r3', 1.5, undefined, 'ATL'), row('r1', 0.5, 0.1, 'SFO'), row('r4', 1.7, 0.4, 'SFO')]);
  await earlier.close();
  const fresh = await openFreshKysely();
  t.after(() => fresh.close());
  const labels = new KyselyLabelStore(fresh.db);
  await labels.putLabels(['r0', 'r2', 'r3', 'r5', 'r7'].map((requestId, k) => ({ requestId, modelName: 'flights', label: k % 2 })), 'feedback');
  const read = (window: Parameters<typeof readQualityRows>[3]['window']) =>
    withDuckDB(async (db) => {
      const log = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights' });
      try {
        return await readQualityRows(db, log.relation, labels, { model: 'flights', window, score: `TRY_CAST(outputs ->> 'probability' AS DOUBLE)`, features: { origin: `(features ->> 'origin')` } });
      } finally {
        await log.close();
      }
    });
  // Each window in order: its scores (every scored row, from the counts) and its labelled rows (score, label, origin), sorted: labelled rows come in no set order.
  const byWindow = ({ windows, labelled }: Awaited<ReturnType<typeof read>>) =>
    windows.map((w) => [
      w.window,
      [...w.scores.scores].flatMap((score, g) => new Array<number>(w.scores.counts[g]!).fill(score)),
      labelled.windows.flatMap((name, i) => (name === w.window ? [[labelled.scores[i]!, labelled.labels[i]!, labelled.features.origin![i]]] : [])).sort((a, b) => (a[0] as number) - (b[0] as number)),
    ]);
  // Nine logged rows (r3 unscored) in windows of 3 by time: [r0 r1 r2] [r3 r4 r5] [r6 r5 r7]; the unscored r3 takes a place and is left out.
  const requests = await read({ kind: 'requests', size: 3 });
  assert.equal(requests.multiRowRequests, 1);
  assert.deepEqual(byWindow(requests), [
    ['0', [0, 0.1, 0.2], [[0, 0, 'ATL'], [0.2, 1, 'SFO']]],
    ['1', [0.4, 0.5], []],
    ['2', [0.55, 0.6, 0.7], [[0.7, 0, 'ATL']]],
  ]);
  // One window holding every row: the same rows, unnumbered.
  assert.deepEqual(byWindow(await read({ kind: 'requests', size: 9 })), [['0', [0, 0.1, 0.2, 0.4, 0.5, 0.55, 0.6, 0.7], [[0, 0, 'ATL'], [0.2, 1, 'SFO'], [0.7, 0, 'ATL']]]]);
  // Hourly windows, in time order although the newer file sorts first: hours 0, 1 and 2, each from its first to its last scored row.
  const hourly = await read({ kind: 'hourly' });
  assert.deepEqual(byWindow(hourly), [
    [String(START), [0, 0.1], [[0, 0, 'ATL']]],
    [String(START + HOUR), [0.2, 0.4], [[0.2, 1, 'SFO']]],
    [String(START + 2 * HOUR), [0.5, 0.55, 0.6, 0.7], [[0.7, 0, 'ATL']]],
  ]);
  const at = (h: number) => START + h * HOUR + Math.round(10 * h);
  assert.deepEqual(hourly.windows.map((w) => [w.start, w.end]), [[at(0), at(0.5)], [at(1), at(1.7)], [at(2), at(2.7)]]);
});
