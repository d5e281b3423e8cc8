// GET /api/loom/deployments/:name/traffic, /shadow and /canary-decisions, and
// /monitoring/:name/slices' refusals, over a real SQLite project and a real Parquet prediction
// log through Fastify's inject: requests, rows, errors and latency per version, role and window,
// a multi-row request counted once, a shadow's answers against the served ones, the time range
// applied on the server, and what a server without the log answers.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { ParquetPredictionSink } from '../../serve/prediction-sinks.js';
import { buildPlatformApp } from '../server.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { platformApp } from '../../../test/support/platform-app.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

async function servedApp(t: TestContext) {
  const db = await openTestPlatform(await makeTempDir((fn) => t.after(fn)));
  const location = predictionLogLocation(db.config);
  const server = await buildPlatformApp({ db, artifacts: db.artifacts, monitor: { location, labels: db.labels, history: db.monitorHistory } });
  t.after(async () => {
    await server.close();
    await db.close();
  });
  await db.registry.createRegisteredModel({ name: 'flights' });
  const sink = new ParquetPredictionSink(db.layout.predictions);
  const row = (requestId: string, version: number, role: 'primary' | 'canary' | 'shadow', latencyMs: number, loggedAt: number) => ({ requestId, modelName: 'flights', modelVersion: version, role, protocol: 'v2', features: '{"distance":1}', outputs: '{"probability":0.5}', latencyMs, loggedAt });
  await sink.write([
    // Day 0: v1 answers four requests (latencies 1, 2, 3, 10), one of them carrying two rows; v2 as canary one.
    row('a', 1, 'primary', 1, T0 + 1000),
    row('b', 1, 'primary', 2, T0 + 2000),
    row('b', 1, 'primary', 2, T0 + 2000),
    row('c', 1, 'primary', 3, T0 + 3000),
    row('d', 1, 'primary', 10, T0 + 4000),
    row('e', 2, 'canary', 5, T0 + 5000),
    // Day 0: v1 refuses a bad body (400) and fails a run (500); day 2: the canary only refuses one.
    { ...row('h', 1, 'primary', 7, T0 + 6000), features: '{}', outputs: '{}', status: 400, errorCode: 'INVALID_ARGUMENT' },
    { ...row('i', 1, 'primary', 8, T0 + 7000), features: '{}', outputs: '{}', status: 500, errorCode: 'INTERNAL' },
    { ...row('j', 2, 'canary', 9, T0 + 2 * DAY), features: '{}', outputs: '{}', status: 400, errorCode: 'INVALID_ARGUMENT' },
    // Day 1: v1 once, and the shadow copy of the same request.
    row('f', 1, 'primary', 4, T0 + DAY + 1000),
    row('f', 2, 'shadow', 6, T0 + DAY + 1500),
    // Another model's traffic is not this one's.
    { ...row('g', 1, 'primary', 99, T0 + 1000), modelName: 'taxis' },
  ]);
  await sink.close();
  return { server, db };
}

test('traffic comes back per version, role and day: requests once each, rows, and the latency quantiles of the requests', async (t) => {
  const { server } = await servedApp(t);
  const traffic = (await server.inject('/api/loom/deployments/flights/traffic')).json();
  assert.equal(traffic.window, 'daily');
  // Quantiles are interpolated in floating point: compared to 1e-9.
  const rounded = traffic.series.map((s: { p95: (number | null)[] }) => ({ ...s, p95: s.p95.map((v) => (v === null ? v : Math.round(v * 1e9) / 1e9)) }));
  const none = { clientErrors: [0], serverErrors: [0], errorShare: [0] };
  assert.deepEqual(rounded, [
    // Latencies 1, 2, 3, 10 (the failures' are not latencies of answers): median 2.5, 95th percentile 3 + 0.85 * 7 (linear between the two highest).
    { version: 1, role: 'primary', starts: [T0, T0 + DAY], requests: [4, 1], rows: [5, 1], p50: [2.5, 4], p95: [8.95, 4], max: [10, 4], clientErrors: [1, 0], serverErrors: [1, 0], errorShare: [2 / 6, 0] },
    // A window where every request failed has no latency.
    { version: 2, role: 'canary', starts: [T0, T0 + 2 * DAY], requests: [1, 0], rows: [1, 0], p50: [5, null], p95: [5, null], max: [5, null], clientErrors: [0, 1], serverErrors: [0, 0], errorShare: [0, 1] },
    { version: 2, role: 'shadow', starts: [T0 + DAY], requests: [1], rows: [1], p50: [6], p95: [6], max: [6], ...none },
  ]);
  const hourly = (await server.inject(`/api/loom/deployments/flights/traffic?window=hourly&from=${T0 + DAY}&to=${T0 + 2 * DAY}`)).json();
  assert.deepEqual(hourly.series.map((s: { role: string; starts: number[]; requests: number[] }) => [s.role, s.starts, s.requests]), [
    ['primary', [T0 + DAY], [1]],
    ['shadow', [T0 + DAY], [1]],
  ]);
});

test('shadow results: rows paired by request and features, label agreement and score difference per window, latency side by side', async (t) => {
  const { server, db } = await servedApp(t);
  const sink = new ParquetPredictionSink(db.layout.predictions);
  const answer = (requestId: string, version: number, role: 'primary' | 'canary' | 'shadow', features: string, label: number, probability: number, latencyMs: number, loggedAt: number) =>
    ({ requestId, modelName: 'flights', modelVersion: version, role, protocol: 'v2', features, outputs: JSON.stringify({ label, probability }), latencyMs, loggedAt });
  const [a, b] = ['{"distance":100}', '{"distance":900}'];
  await sink.write([
    // Day 3: request s1 carries two rows (a, b), s2 one (a) answered by the canary; the shadow (v3) disagrees on s1's b.
    answer('s1', 1, 'primary', a, 0, 0.25, 2, T0 + 3 * DAY),
    answer('s1', 1, 'primary', b, 1, 0.75, 2, T0 + 3 * DAY),
    answer('s1', 3, 'shadow', b, 0, 0.5, 4, T0 + 3 * DAY + 10),
    answer('s1', 3, 'shadow', a, 0, 0.125, 4, T0 + 3 * DAY + 10),
    answer('s2', 2, 'canary', a, 1, 0.5, 3, T0 + 3 * DAY + 20),
    answer('s2', 3, 'shadow', a, 1, 0.5, 5, T0 + 3 * DAY + 30),
    // A shadow row whose request has no served answer in the log is not compared.
    answer('s3', 3, 'shadow', a, 1, 0.5, 5, T0 + 3 * DAY + 40),
    // A failed request is never compared.
    { ...answer('s4', 1, 'primary', '{}', 0, 0, 1, T0 + 3 * DAY + 50), outputs: '{}', status: 400, errorCode: 'INVALID_ARGUMENT' },
  ]);
  await sink.close();
  const shadow = (await server.inject(`/api/loom/deployments/flights/shadow?from=${T0 + 3 * DAY}`)).json();
  assert.equal(shadow.window, 'daily');
  const { comparisons } = shadow;
  const start = T0 + 3 * DAY;
  assert.deepEqual(comparisons, [
    {
      shadowVersion: 3, servedVersion: 1, servedRole: 'primary', starts: [start], rows: [2], requests: [1],
      outputs: [{ name: 'label', kind: 'label', values: [0.5] }, { name: 'probability', kind: 'score', values: [(0.125 + 0.25) / 2] }],
      shadowP50: [4], shadowP95: [4], servedP50: [2], servedP95: [2],
    },
    {
      shadowVersion: 3, servedVersion: 2, servedRole: 'canary', starts: [start], rows: [1], requests: [1],
      outputs: [{ name: 'label', kind: 'label', values: [1] }, { name: 'probability', kind: 'score', values: [0] }],
      shadowP50: [5], shadowP95: [5], servedP50: [3], servedP95: [3],
    },
  ]);
  // The earlier days' shadow copy (request f) has the same outputs as its primary.
  const earlier = (await server.inject(`/api/loom/deployments/flights/shadow?to=${T0 + 3 * DAY}`)).json();
  assert.deepEqual(earlier.comparisons.map((c: { starts: number[]; rows: number[]; outputs: unknown[] }) => [c.starts, c.rows, c.outputs]), [[[T0 + DAY], [1], [{ name: 'probability', kind: 'score', values: [0] }]]]);
  assert.equal((await server.inject('/api/loom/deployments/nope/shadow')).statusCode, 404);
  assert.equal((await server.inject('/api/loom/deployments/flights/shadow?window=requests:5')).statusCode, 400);
});

test('canary decisions: none recorded is an empty list; refusals for an unknown model, a bad query and a server without the log', async (t) => {
  const { server } = await servedApp(t);
  assert.deepEqual((await server.inject('/api/loom/deployments/flights/canary-decisions')).json(), { decisions: [] });
  assert.equal((await server.inject('/api/loom/deployments/nope/traffic')).statusCode, 404);
  assert.equal((await server.inject('/api/loom/deployments/nope/canary-decisions')).statusCode, 404);
  for (const url of ['/api/loom/deployments/flights/traffic?window=requests:10', `/api/loom/deployments/flights/traffic?from=${T0}&to=${T0}`, '/api/loom/monitoring/flights/slices', '/api/loom/monitoring/flights/slices?version=1&window=requests:0']) {
    const bad = await server.inject(url);
    assert.equal(bad.statusCode, 400, url);
    assert.equal(bad.json().error_code, 'INVALID_PARAMETER_VALUE', url);
  }
  // Version 1 was never registered: its slices cannot be computed.
  assert.equal((await server.inject('/api/loom/monitoring/flights/slices?version=1')).statusCode, 404);
  const { server: bare, db } = await platformApp(t);
  await db.registry.createRegisteredModel({ name: 'flights' });
  const missing = await bare.inject('/api/loom/deployments/flights/traffic');
  assert.equal(missing.statusCode, 412);
  assert.match(missing.json().message, /without the prediction log/);
});
