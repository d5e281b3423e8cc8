// GET /api/loom/models/:name/monitor/{drift,quality,status} over a real SQLite project through
// Fastify's inject: figures recorded in the monitoring history come back filtered by version,
// window kind and time range; the status names the latest window's drifted features; refusals.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { openTestPlatform } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { buildPlatformApp } from '../server.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

async function monitoredApp(t: TestContext, withHistory = true) {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(dir);
  const server = await buildPlatformApp({ db, artifacts: db.artifacts, ...(withHistory && { monitorHistory: db.monitorHistory }) });
  t.after(async () => {
    await server.close();
    await db.close();
  });
  await db.registry.ensureRegisteredModel('flights');
  const window = (version: number, day: number, windowKind = 'daily') => ({ model: 'flights', version, windowKind, start: T0 + day * DAY, end: T0 + (day + 1) * DAY, rows: 100 + day, measure: 'psi', threshold: 0.2 });
  await db.monitorHistory.recordDrift(
    [
      { ...window(1, 0), against: 'training', feature: 'distance', value: 0.05, exceeded: false },
      { ...window(1, 1), against: 'training', feature: 'distance', value: 0.31, exceeded: true },
      { ...window(1, 1), against: 'previous', feature: 'origin', value: 0.25, exceeded: true },
      { ...window(1, 1), against: 'training', feature: 'hour', value: 0.01, exceeded: false },
      { ...window(1, 1), against: 'prediction', feature: 'probability', value: 0.02, exceeded: false },
      { ...window(1, 0, 'hourly'), against: 'training', feature: 'distance', value: 0.9, exceeded: true },
    ],
    T0 + 5 * DAY,
  );
  // The daily figures are recorded last, so a status without a window kind reads them.
  await db.monitorHistory.recordDrift([{ ...window(1, 2), against: 'training', feature: 'distance', value: 0.5, exceeded: true }], T0 + 6 * DAY);
  await db.monitorHistory.recordQuality([{ model: 'flights', version: 1, windowKind: 'daily', start: T0 + 2 * DAY, end: T0 + 3 * DAY, rows: 102, labelled: 40, kind: 'measured', metric: 'auc', value: 0.71 }]);
  return { server, db };
}

test('drift and quality history: every recorded figure, filtered by version, window kind and range', async (t) => {
  const { server } = await monitoredApp(t);
  const all = await server.inject('/api/loom/models/flights/monitor/drift');
  assert.equal(all.statusCode, 200);
  assert.equal(all.json().rows.length, 7);
  const daily = (await server.inject('/api/loom/models/flights/monitor/drift?window_kind=daily')).json().rows as { start: number; feature: string; value: number }[];
  assert.deepEqual(daily.map((r) => [r.start - T0, r.feature]), [[0, 'distance'], [DAY, 'distance'], [DAY, 'origin'], [DAY, 'hour'], [DAY, 'probability'], [2 * DAY, 'distance']]);
  const ranged = (await server.inject(`/api/loom/models/flights/monitor/drift?window_kind=daily&since=${T0 + DAY}&until=${T0 + 2 * DAY}`)).json().rows as { value: number }[];
  assert.deepEqual(ranged.map((r) => r.value), [0.31, 0.25, 0.01, 0.02]);
  assert.deepEqual((await server.inject('/api/loom/models/flights/monitor/drift?version=2')).json().rows, []);
  const quality = (await server.inject('/api/loom/models/flights/monitor/quality')).json().rows as { kind: string; metric: string; value: number }[];
  assert.deepEqual(quality.map((q) => [q.kind, q.metric, q.value]), [['measured', 'auc', 0.71]]);
});

test('status: the latest window of the kind recorded last, its drifted features and its quality', async (t) => {
  const { server } = await monitoredApp(t);
  const status = (await server.inject('/api/loom/models/flights/monitor/status')).json();
  assert.deepEqual([status.version, status.window.kind, status.window.start - T0, status.window.rows], [1, 'daily', 2 * DAY, 102]);
  assert.deepEqual([status.drifted, status.predictionDrift, status.quality], [['distance'], false, { 'measured.auc': 0.71 }]);
  const hourly = (await server.inject('/api/loom/models/flights/monitor/status?window_kind=hourly')).json();
  assert.deepEqual([hourly.window.kind, hourly.drifted, hourly.quality], ['hourly', ['distance'], {}]);
  const none = (await server.inject('/api/loom/models/flights/monitor/status?version=2')).json();
  assert.deepEqual([none.version, none.window, none.drifted], [2, null, []]);
});

test('refusals: an unknown model, bad query strings, and a server without the history', async (t) => {
  const { server } = await monitoredApp(t);
  const missing = await server.inject('/api/loom/models/nope/monitor/drift');
  assert.deepEqual([missing.statusCode, missing.json().error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);
  assert.match(missing.json().fix, /loom models ls/);
  for (const [query, field] of [['since=5&until=5', 'since'], ['window_kind=weekly', 'window_kind'], ['version=0', 'version'], ['since=yesterday', 'since']] as const) {
    const bad = await server.inject(`/api/loom/models/flights/monitor/drift?${query}`);
    assert.deepEqual([bad.statusCode, bad.json().error_code, bad.json().field], [400, 'INVALID_PARAMETER_VALUE', field], query);
  }
  const { server: bare } = await monitoredApp(t, false);
  const refused = await bare.inject('/api/loom/models/flights/monitor/status');
  assert.deepEqual([refused.statusCode, refused.json().error_code], [412, 'INVALID_STATE']);
});
