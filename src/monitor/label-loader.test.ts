import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ParquetPredictionSink } from '../serve/prediction-sinks.js';
import { openTestPlatform } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { loadLabels } from './label-loader.js';

const T0 = Date.UTC(2026, 0, 5, 8);
const HOUR = 3_600_000;

/** A log of four predictions: flight UA1 at 8:00 and 10:00, DL2 at 9:00, and UA1 of another model. */
async function writeLog(dir: string): Promise<void> {
  const sink = new ParquetPredictionSink(dir);
  const row = (requestId: string, flight: string, at: number, model = 'flights') => ({
    requestId,
    modelName: model,
    modelVersion: 1,
    role: 'primary' as const,
    protocol: 'v2',
    features: JSON.stringify({ flight, origin: 'SFO' }),
    outputs: JSON.stringify({ probability: 0.3 }),
    latencyMs: 0.2,
    loggedAt: at,
  });
  await sink.write([row('a', 'UA1', T0), row('b', 'DL2', T0 + HOUR), row('c', 'UA1', T0 + 2 * HOUR), row('x', 'UA1', T0 + 2.5 * HOUR, 'other')]);
  await sink.close();
}

test('labels load from a file by request id, and from a query by entity and time with a point-in-time join', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const logDir = join(dir, 'predictions');
  await writeLog(logDir);
  const location = { kind: 'parquet' as const, dir: logDir };

  const csv = join(dir, 'labels.csv');
  await writeFile(csv, 'request_id,delayed\na,1\nb,0\n');
  assert.deepEqual(await loadLabels(db.labels, location, { model: 'flights', source: { file: csv }, labelColumn: 'delayed' }), { rows: 2, written: 2, unmatched: 0 });
  const byId = await db.labels.getLabels(['a', 'b']);
  assert.deepEqual([byId.get('a')!.label, byId.get('b')!.label, byId.get('a')!.source], [1, 0, `load:${csv}`]);

  // UA1 at 9:30 belongs to the 8:00 prediction (the 10:00 one came later); at 11:00 to the 10:00 one
  // (not to the other model's); DL2 at 8:30 had no prediction yet.
  const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  const sql = `SELECT * FROM (VALUES ('UA1', TIMESTAMP '${iso(T0 + 1.5 * HOUR)}', true), ('UA1', TIMESTAMP '${iso(T0 + 3 * HOUR)}', false), ('DL2', TIMESTAMP '${iso(T0 + 0.5 * HOUR)}', true)) AS v(flight, arrived_at, late)`;
  const result = await loadLabels(db.labels, location, { model: 'flights', source: { sql }, labelColumn: 'late', entity: { keys: ['flight'], timeColumn: 'arrived_at' } });
  assert.deepEqual(result, { rows: 3, written: 2, unmatched: 1 });
  const byEntity = await db.labels.getLabels(['a', 'c', 'x']);
  assert.deepEqual([byEntity.get('a')!.label, byEntity.get('a')!.observedAt, byEntity.get('c')!.label, byEntity.has('x')], [1, T0 + 1.5 * HOUR, 0, false]);
});

test('a missing column is refused naming it, before anything is written', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const csv = join(dir, 'labels.csv');
  await writeFile(csv, 'id,label\na,1\n');
  await assert.rejects(loadLabels(db.labels, { kind: 'parquet', dir: join(dir, 'none') }, { model: 'flights', source: { file: csv } }), { code: 'INVALID_ARGUMENT', field: 'requestIdColumn' });
  assert.equal((await db.labels.getLabels(['a'])).size, 0);
});
