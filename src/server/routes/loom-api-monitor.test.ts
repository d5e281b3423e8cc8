// GET /api/loom/monitoring/:name and GET /api/loom/session over a real SQLite project through
// Fastify's inject: the monitoring history grouped into one series per feature and reference and
// per quality metric and kind, for the version and window kind asked (newest version by default),
// the alerts of that version, and the refusals.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { buildPlatformApp } from '../server.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { platformApp } from '../../../test/support/platform-app.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

async function monitoredApp(t: TestContext) {
  const db = await openTestPlatform(await makeTempDir((fn) => t.after(fn)));
  const server = await buildPlatformApp({ db, artifacts: db.artifacts, monitor: { location: predictionLogLocation(db.config), history: db.monitorHistory } });
  t.after(async () => {
    await server.close();
    await db.close();
  });
  await db.registry.createRegisteredModel({ name: 'flights' });
  const window = (version: number, day: number, windowKind = 'daily') => ({ model: 'flights', version, windowKind, start: T0 + day * DAY, end: T0 + (day + 1) * DAY, rows: 100 });
  const drift = (version: number, day: number, feature: string, value: number | null, windowKind?: string) => ({
    ...window(version, day, windowKind),
    against: 'training' as const,
    feature,
    measure: 'psi',
    value,
    threshold: 0.2,
    exceeded: value !== null && value > 0.2,
  });
  await db.monitorHistory.recordDrift([drift(1, 0, 'distance', 0.1), drift(1, 0, 'hour', 0.05), drift(2, 0, 'distance', 0.01)]);
  await db.monitorHistory.recordDrift([drift(1, 1, 'distance', 0.4), drift(1, 1, 'hour', null)]);
  await db.monitorHistory.recordDrift([drift(1, 0, 'distance', 0.9, 'hourly')]);
  const quality = (day: number, kind: 'estimated' | 'measured', value: number | null, labelled: number) => ({ ...window(1, day), labelled, kind, metric: 'auc', value });
  await db.monitorHistory.recordQuality([quality(0, 'estimated', 0.8, 40), quality(0, 'measured', 0.75, 40)]);
  await db.monitorHistory.recordQuality([quality(1, 'estimated', 0.7, 0)]);
  return { server, db };
}

test('a model’s monitoring comes back as series per feature and per quality metric, for the version and window asked', async (t) => {
  const { server } = await monitoredApp(t);
  const newest = (await server.inject('/api/loom/monitoring/flights')).json();
  assert.deepEqual([newest.versions, newest.version, newest.windowKinds, newest.windowKind], [[2, 1], 2, ['daily'], 'daily']);
  assert.deepEqual(newest.drift.map((s: { feature: string; values: number[] }) => [s.feature, s.values]), [['distance', [0.01]]]);
  assert.deepEqual(newest.quality, []);
  assert.deepEqual(newest.alerts, []);

  const v1 = (await server.inject('/api/loom/monitoring/flights?version=1&window=daily')).json();
  assert.deepEqual(v1.windowKinds.sort(), ['daily', 'hourly']);
  assert.deepEqual(v1.drift, [
    { feature: 'distance', against: 'training', measure: 'psi', threshold: 0.2, starts: [T0, T0 + DAY], values: [0.1, 0.4], exceeded: [false, true] },
    { feature: 'hour', against: 'training', measure: 'psi', threshold: 0.2, starts: [T0, T0 + DAY], values: [0.05, null], exceeded: [false, false] },
  ]);
  assert.deepEqual(v1.quality, [
    { metric: 'auc', kind: 'estimated', starts: [T0, T0 + DAY], values: [0.8, 0.7], labelled: [40, 0] },
    { metric: 'auc', kind: 'measured', starts: [T0], values: [0.75], labelled: [40] },
  ]);
  const hourly = (await server.inject('/api/loom/monitoring/flights?version=1&window=hourly')).json();
  assert.deepEqual(hourly.drift.map((s: { values: number[] }) => s.values), [[0.9]]);
  const ranged = (await server.inject(`/api/loom/monitoring/flights?version=1&from=${T0 + DAY}&to=${T0 + 2 * DAY}`)).json();
  assert.deepEqual(ranged.drift.map((s: { starts: number[] }) => s.starts), [[T0 + DAY], [T0 + DAY]]);
});

test('refusals: an unknown model, a bad window or range, and a server without the monitoring history', async (t) => {
  const { server } = await monitoredApp(t);
  const unknown = await server.inject('/api/loom/monitoring/nope');
  assert.equal(unknown.statusCode, 404);
  for (const query of ['window=weekly', 'version=0', 'from=10&to=5', 'from=-1']) {
    const bad = await server.inject(`/api/loom/monitoring/flights?${query}`);
    assert.equal(bad.statusCode, 400, query);
    assert.equal(bad.json().error_code, 'INVALID_PARAMETER_VALUE', query);
  }
  const { server: bare, db } = await platformApp(t);
  await db.registry.createRegisteredModel({ name: 'flights' });
  const missing = await bare.inject('/api/loom/monitoring/flights');
  assert.equal(missing.statusCode, 412);
  assert.match(missing.json().message, /without the monitoring history/);
});

test('GET /api/loom/session names the open principal of a server without authentication', async (t) => {
  const { server } = await platformApp(t);
  const who = await server.inject({ url: '/api/loom/session', headers: { 'x-loom-actor': 'alice' } });
  assert.deepEqual(who.json(), { subject: 'alice', role: 'admin', source: 'open', grants: [] });
});
