/**
 * The request id from the HTTP request to the prediction log: every serving answer, in every
 * protocol and on failure too, carries `x-request-id`; the client's valid id is kept, an
 * unusable one replaced; V2 answers carry it as `id`; and it is the logged row's `request_id`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { createLogger } from '../http/request-log.js';
import { openTestPlatform } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { buildServingModel, registerFlightsChampion } from '../../test/support/serving-model.js';
import { ParquetPredictionSink } from './prediction-sinks.js';
import { startModelServer } from './server.js';

const ROW = { hour: 17, weekday: 5, distance: 1846, origin: 'SFO', destination: 'ORD' };

test('every serving answer carries its request id, and the prediction log records the same id', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const fixture = await buildServingModel(dir);
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  await registerFlightsChampion(db.registry, fixture, 'request ids');
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk, _encoding, done) => (lines.push(...String(chunk).split('\n').filter(Boolean)), done()) });
  const logDir = join(dir, 'predictions');
  const server = await startModelServer({
    port: 0,
    models: ['flights@champion'],
    registry: db.registry,
    artifacts: fixture.artifacts,
    watchIntervalMs: 0,
    predictionLog: new ParquetPredictionSink(logDir),
    log: createLogger({ level: 'info', destination }),
  });
  let closed = false;
  t.after(() => (closed ? undefined : server.close()));
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: response.status, id: response.headers.get('x-request-id'), body: (await response.json()) as { id?: string } };
  };

  const given = await post('/v2/models/flights/infer', { instances: [ROW] }, { 'x-request-id': 'client-7f3a.1' });
  assert.deepEqual([given.status, given.id, given.body.id], [200, 'client-7f3a.1', 'client-7f3a.1']);
  const generated = await post('/v2/models/flights/infer', { instances: [ROW] });
  assert.equal(generated.status, 200);
  assert.match(generated.id ?? '', /^[A-Za-z0-9._:@+=/-]{1,128}$/);
  assert.equal(generated.body.id, generated.id, 'a V2 answer names the id a client quotes for feedback');
  const bodyId = await post('/v2/models/flights/infer', { id: 'v2-body-9', instances: [ROW] });
  assert.deepEqual([bodyId.id, bodyId.body.id], ['v2-body-9', 'v2-body-9']);
  const tf = await post('/v1/models/flights:predict', { instances: [ROW] }, { 'x-request-id': 'tf-1' });
  assert.deepEqual([tf.status, tf.id], [200, 'tf-1']);
  const mlflow = await post('/invocations', { dataframe_records: [ROW] });
  assert.equal(mlflow.status, 200);
  assert.ok(mlflow.id && mlflow.id !== generated.id, 'each request gets its own id');
  // A header that is unsafe in a log line or too long is replaced, not echoed.
  const unusable = await post('/v2/models/flights/infer', { instances: [ROW] }, { 'x-request-id': 'x'.repeat(129) });
  assert.equal(unusable.status, 200);
  assert.ok(unusable.id && unusable.id !== 'x'.repeat(129));
  const failed = await post('/v2/models/nosuchmodel/infer', { instances: [ROW] }, { 'x-request-id': 'lost-1' });
  assert.deepEqual([failed.status, failed.id], [404, 'lost-1']);
  const metadata = await fetch(`${server.url}/v2/models/flights`);
  assert.ok(metadata.headers.get('x-request-id'));

  await server.close();
  closed = true;
  const logged = await withDuckDB((conn) => queryRows(conn, `SELECT request_id, protocol FROM read_parquet(${sqlString(join(logDir, '*.parquet'))}) ORDER BY logged_at`));
  assert.deepEqual(
    logged.map((row) => [row.request_id, row.protocol]),
    [
      ['client-7f3a.1', 'v2'],
      [generated.id, 'v2'],
      ['v2-body-9', 'v2'],
      ['tf-1', 'tfserving'],
      [mlflow.id, 'mlflow'],
      [unusable.id, 'v2'],
    ],
  );
  assert.ok(lines.length > 0 && lines.every((line) => typeof JSON.parse(line) === 'object'), 'the server logs JSON lines');
});
