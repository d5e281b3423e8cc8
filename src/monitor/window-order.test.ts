/**
 * Windows of N requests split the log the same way on every run: rows that tie on time and
 * request id (a request logged by two roles in the same millisecond, or a batch's instances)
 * fall on the same side of a boundary whatever order the files and rows were written in,
 * for the monitor's windows and online quality's alike (both number rows by `windowKey`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import type { PredictionLogRow as PredictionRow } from '../serve/prediction-log.js';
import { ParquetPredictionSink } from '../serve/prediction-sinks.js';
import { openFreshKysely } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { KyselyLabelStore } from './kysely-label-store.js';
import { openPredictionLog } from './prediction-log-reader.js';
import { readQualityRows } from './quality-rows.js';
import { windowKey, type WindowSpec } from './windows.js';

const START = Date.UTC(2026, 0, 5);
const WINDOW: WindowSpec = { kind: 'requests', size: 3 };

/** Request r<i> at millisecond i, answered by the primary and by a shadow; r4 is a batch of two instances, one row each. */
function rows(): PredictionRow[] {
  const row = (i: number, role: 'primary' | 'shadow', probability: number): PredictionRow => ({
    requestId: `r${i}`,
    modelName: 'flights',
    modelVersion: 1,
    role,
    protocol: 'v2',
    features: JSON.stringify({ origin: role === 'primary' ? 'SFO' : 'ATL', distance: 100 * probability }),
    outputs: JSON.stringify({ probability }),
    latencyMs: 0.3,
    loggedAt: START + i,
  });
  return [
    ...[0, 1, 2, 3].flatMap((i) => [row(i, 'primary', 0.1 + i / 10), row(i, 'shadow', 0.6 + i / 10)]),
    row(4, 'primary', 0.05),
    row(4, 'primary', 0.95),
  ];
}

/** What each window holds (role and score of its rows, by window) and online quality's windows, over the log written in `files` (each a list of rows, one file each). */
async function split(dir: string, files: PredictionRow[][]) {
  for (const file of files) {
    const sink = new ParquetPredictionSink(dir);
    await sink.write(file);
    await sink.close();
  }
  const fresh = await openFreshKysely();
  try {
    const labels = new KyselyLabelStore(fresh.db);
    return await withDuckDB(async (db) => {
      const log = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights' });
      try {
        const windows = await queryRows(db, `SELECT ${windowKey(WINDOW)}::DOUBLE AS w, role, outputs ->> 'probability' AS p FROM (${log.relation}) ORDER BY w, p`);
        const quality = await readQualityRows(db, log.relation, labels, { model: 'flights', window: WINDOW, score: `TRY_CAST(outputs ->> 'probability' AS DOUBLE)`, features: {} });
        return { windows, quality: quality.windows };
      } finally {
        await log.close();
      }
    });
  } finally {
    await fresh.close();
  }
}

test('windows of N requests split rows that tie on time and request id the same way, whatever order they were logged in', async (t) => {
  const logged = rows();
  const reversed = [...logged].reverse();
  const runs = [
    await split(await makeTempDir(t.after.bind(t)), [logged]),
    await split(await makeTempDir(t.after.bind(t)), [reversed]),
    // Two roles' writers, each its own file, the shadow's first.
    await split(await makeTempDir(t.after.bind(t)), [logged.filter((r) => r.role === 'shadow'), logged.filter((r) => r.role === 'primary')]),
    await split(await makeTempDir(t.after.bind(t)), [reversed.filter((r) => r.role === 'primary'), reversed.filter((r) => r.role === 'shadow')]),
  ];
  // Ten rows in windows of three: boundaries fall between r1's two roles, after r2's shadow, and between r4's two instances.
  assert.deepEqual(runs[0]!.windows.map((r) => r.w), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
  for (const run of runs.slice(1)) {
    assert.deepEqual(run.windows, runs[0]!.windows);
    assert.deepEqual(run.quality, runs[0]!.quality);
  }
});

test('a window of more requests than a number prints whole (requests:1000000000000000000000 through the API) holds every row in window 0', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const sink = new ParquetPredictionSink(dir);
  await sink.write(rows());
  await sink.close();
  await withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights' });
    try {
      for (const size of [1e21, 1e30, Number.MAX_VALUE]) {
        const keys = await queryRows(db, `SELECT ${windowKey({ kind: 'requests', size })}::DOUBLE AS w FROM (${log.relation})`);
        assert.deepEqual(keys.map((r) => r.w), Array(10).fill(0), String(size));
      }
    } finally {
      await log.close();
    }
  });
});
