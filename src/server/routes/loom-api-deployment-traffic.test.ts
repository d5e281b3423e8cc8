// GET /api/loom/deployments/:name/traffic and /canary-decisions, and /monitoring/:name/slices'
// refusals, over a real SQLite project and a real Parquet prediction log through Fastify's
// inject: requests, rows and latency per version, role and window, a multi-row request counted
// once, the time range applied on the server, and what a server without the log answers.
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
  assert.equal(traffic.errorsLogged, false);
  // Quantiles are interpolated in floating point: compared to 1e-9.
  const rounded = traffic.series.map((s: { p95: number[] }) => ({ ...s, p95: s.p95.map((v) => Math.round(v * 1e9) / 1e9) }));
  assert.deepEqual(rounded, [
    // Latencies 1, 2, 3, 10: median 2.5, 95th percentile 3 + 0.85 * 7 (linear between the two highest).
    { version: 1, role: 'primary', starts: [T0, T0 + DAY], requests: [4, 1], rows: [5, 1], p50: [2.5, 4], p95: [8.95, 4], max: [10, 4] },
    { version: 2, role: 'canary', starts: [T0], requests: [1], rows: [1], p50: [5], p95: [5], max: [5] },
    { version: 2, role: 'shadow', starts: [T0 + DAY], requests: [1], rows: [1], p50: [6], p95: [6], max: [6] },
  ]);
  const hourly = (await server.inject(`/api/loom/deployments/flights/traffic?window=hourly&from=${T0 + DAY}&to=${T0 + 2 * DAY}`)).json();
  assert.deepEqual(hourly.series.map((s: { role: string; starts: number[]; requests: number[] }) => [s.role, s.starts, s.requests]), [
    ['primary', [T0 + DAY], [1]],
    ['shadow', [T0 + DAY], [1]],
  ]);
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
