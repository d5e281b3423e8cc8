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
  /** Posts `body` as JSON, or a string as it is (malformed or hostile text), with the given content type. */
  const feedback = async (body: unknown, contentType = 'application/json') => {
    const response = await fetch(`${server.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
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

test('hostile feedback is refused with 400 (413 past the body limit) in the API error shape naming the field, and stores nothing; the server goes on', async (t) => {
  const { db, feedback } = await serveWithFeedback(t, (dir) => openTestPlatform(dir));
  const label = (fields: Record<string, unknown>) => JSON.stringify({ model: 'flights', labels: [{ request_id: 'req-1', label: 1, ...fields }] });
  const refused: [string, string | object, number, RegExp | undefined][] = [
    ['malformed JSON', '{"model": "flights", "labels": [{"request_id": "req-1", "label": 1}', 400, undefined],
    ['not JSON at all', 'model=flights&label=1', 415, undefined],
    ['a body past the limit', `{"model": "flights", "labels": [${'{"request_id": "req-1", "label": 1},'.repeat(400_000)}{"request_id": "req-1", "label": 1}]}`, 413, undefined],
    ['100k labels', { model: 'flights', labels: Array.from({ length: 100_000 }, (_, i) => ({ request_id: `r${i}`, label: 1 })) }, 400, /labels/],
    ['deep nesting', `{"model": "flights", "labels": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 400, undefined],
    ['a label as text', label({ label: '1' }), 400, /labels\[0\]\.label/],
    ['NaN as text', label({ label: 'NaN' }), 400, /labels\[0\]\.label/],
    ['Infinity as text', label({ label: 'Infinity' }), 400, /labels\[0\]\.label/],
    ['a number past a double', '{"model": "flights", "labels": [{"request_id": "req-1", "label": 1e400}]}', 400, /labels\[0\]\.label/],
    ['a null label', label({ label: null }), 400, /labels\[0\]\.label/],
    ['an object label', label({ label: { value: 1 } }), 400, /labels\[0\]\.label/],
    ['no label', JSON.stringify({ model: 'flights', labels: [{ request_id: 'req-1' }] }), 400, /labels\[0\]\.label/],
    ['an empty request id', label({ request_id: '' }), 400, /labels\[0\]\.request_id/],
    ['a numeric request id', label({ request_id: 7 }), 400, /labels\[0\]\.request_id/],
    ['an over-long request id', label({ request_id: 'x'.repeat(201) }), 400, /labels\[0\]\.request_id/],
    ['a negative observation time', label({ observed_at: -1 }), 400, /labels\[0\]\.observed_at/],
    ['an observation time that is no time', label({ observed_at: 'yesterday' }), 400, /labels\[0\]\.observed_at/],
    ['no model', JSON.stringify({ labels: [{ request_id: 'req-1', label: 1 }] }), 400, /model/],
    ['labels not a list', JSON.stringify({ model: 'flights', labels: { request_id: 'req-1', label: 1 } }), 400, /labels/],
    ['a list for a body', '[]', 400, undefined],
  ];
  for (const [what, body, status, field] of refused) {
    const answer = await feedback(body, what === 'not JSON at all' ? 'application/x-www-form-urlencoded' : 'application/json');
    assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body).slice(0, 300)}`);
    // The API's error shape: a message and a code, never a stack trace.
    assert.equal(typeof answer.body.error, 'string', what);
    assert.doesNotMatch(String(answer.body.error), /\n\s+at /, what);
    if (field) assert.match(String(answer.body.error), field, what);
  }
  assert.equal(await db.labels.countLabels('flights'), 0, 'nothing refused was stored');

  // Unknown and duplicate ids are not errors: unknown ones are counted, a duplicate's last label wins, and the server still answers.
  const mixed = await feedback({ model: 'flights', labels: [{ request_id: 'req-1', label: 1 }, { request_id: 'nobody', label: 0 }, { request_id: 'req-1', label: 0 }, { request_id: 'nobody', label: 1 }] });
  assert.equal(mixed.status, 200, JSON.stringify(mixed.body));
  assert.deepEqual(mixed.body, { accepted: 2, unknown: 1, unknown_ids: ['nobody'] });
  const stored = await db.labels.getLabels(['req-1', 'nobody']);
  assert.deepEqual([stored.get('req-1')?.label, stored.get('nobody')?.label], [0, 1]);
});
