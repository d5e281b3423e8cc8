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
  const empty = { rows: { windows: [], scores: new Float64Array(0), labels: new Float64Array(0), features: { origin: [] } }, at: new Float64Array(0), multiRowRequests: 0 };
  // No labels: as many as the (zero) rows, so they are joined.
  assert.deepEqual(await read(), empty);
  // One label: more than the rows, so the rows' ids are looked up.
  await labels.putLabels([{ requestId: 'r0', modelName: 'flights', label: 1 }], 'feedback');
  assert.deepEqual(await read(), empty);
});
