import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { queryRows, sqlString, withDuckDB } from '../../data/duckdb.js';
import type { Platform } from '../../platform/platform.js';
import { openFreshPostgres, openTestPlatform, postgresTestUrl } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { buildServingModel, registerFlightsChampion } from '../../../test/support/serving-model.js';
import { ParquetPredictionSink, PostgresPredictionSink } from '../prediction-sinks.js';
import { startModelServer } from '../server.js';
import { feedbackPlugin } from './feedback.js';

/** A served flights model logging to the platform's backend, with the feedback route; three answered requests. */
async function serveWithFeedback(t: TestContext, open: (dir: string) => Promise<Platform>) {
  const dir = await makeTempDir(t.after.bind(t));
  const fixture = await buildServingModel(dir);
  const db = await open(dir);
  t.after(() => db.close());
  await registerFlightsChampion(db.registry, fixture, 'feedback test');
  const { database } = db.config;
  const postgres = database.url.startsWith('postgres');
  const sink = postgres ? new PostgresPredictionSink(database) : new ParquetPredictionSink(join(dir, 'predictions'));
  const server = await startModelServer({
    port: 0,
    models: ['flights@champion'],
    registry: db.registry,
    artifacts: fixture.artifacts,
    watchIntervalMs: 0,
    predictionLog: sink,
    plugins: [
      feedbackPlugin({
        labels: db.labels,
        log: postgres ? { kind: 'postgres', url: database.url, schema: database.schema } : { kind: 'parquet', dir: join(dir, 'predictions') },
        finishFile: sink instanceof ParquetPredictionSink ? () => sink.rotate() : undefined,
      }),
    ],
  });
  t.after(() => server.close());
  const instances = await withDuckDB((conn) =>
    queryRows(conn, `SELECT hour::INTEGER AS hour, weekday::INTEGER AS weekday, distance::INTEGER AS distance, origin, destination
      FROM read_parquet(${sqlString(join(fixture.examples.path, 'eval', 'data.parquet'))}) LIMIT 1`),
  );
  for (const id of ['req-1', 'req-2', 'req-3']) {
    const response = await fetch(`${server.url}/v2/models/flights/infer`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify({ instances }) });
    assert.equal(response.status, 200);
  }
  const feedback = async (body: unknown) => {
    const response = await fetch(`${server.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { db, feedback };
}

async function feedbackContract(t: TestContext, open: (dir: string) => Promise<Platform>) {
  const { db, feedback } = await serveWithFeedback(t, open);
  // Sent right after the predictions: the server makes its log readable before looking ids up.
  const answer = await feedback({
    model: 'flights',
    labels: [
      { request_id: 'req-1', label: 1 },
      { request_id: 'req-2', label: false, observed_at: '2026-12-06T10:00:00Z' },
      { request_id: 'never-served', label: 0 },
    ],
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.deepEqual(answer.body, { accepted: 3, unknown: 1, unknown_ids: ['never-served'] });
  const stored = await db.labels.getLabels(['req-1', 'req-2', 'req-3', 'never-served']);
  assert.deepEqual([stored.get('req-1')!.label, stored.get('req-2')!.label, stored.get('req-2')!.observedAt, stored.has('req-3')], [1, 0, Date.parse('2026-12-06T10:00:00Z'), false]);
  assert.equal(stored.get('req-1')!.source, 'feedback');

  // A label of the wrong type refuses the whole batch, naming the field; nothing of it is stored.
  const wrong = await feedback({ model: 'flights', labels: [{ request_id: 'req-3', label: 1 }, { request_id: 'req-3', label: 'delayed' }] });
  assert.equal(wrong.status, 400);
  assert.match(String(wrong.body.error), /labels\[1\]\.label/);
  assert.equal((await db.labels.getLabels(['req-3'])).size, 0);
  const empty = await feedback({ model: 'flights', labels: [] });
  assert.equal(empty.status, 400);
  assert.match(String(empty.body.error), /labels/);
}

test('feedback on the embedded backend: labels by request id stored, unknown ids counted, wrong types refused', (t) => feedbackContract(t, (dir) => openTestPlatform(dir)));

const url = postgresTestUrl('feedback');
if (url) test('feedback on the server backend: the same against the prediction_log table', (t) => feedbackContract(t, () => openFreshPostgres(url)));
