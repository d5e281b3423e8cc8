// Load shedding on the real platform API over real HTTP: with room for one request in
// flight, a request whose body is still arriving holds that room, and the next request is
// refused at once with 503, Retry-After and a clear error, while /health reports the pressure.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { openTestPlatform } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { loadConfig } from '../platform/config.js';
import { buildPlatformApp } from '../server/server.js';
import { LOAD_SHEDDING_DEFAULTS, resolveLoadShedding } from './load-shedding.js';

/** Polls `url` until it answers `status` (the server notices a held or released request on its own schedule). */
async function until(url: string, status: number): Promise<Response> {
  for (let tries = 0; ; tries++) {
    const response = await fetch(url);
    if (response.status === status || tries === 200) return response;
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test('over the in-flight limit a request is refused at once with 503, Retry-After and a fix; /health says why; room again once the held request ends', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(dir);
  const app = await buildPlatformApp({ db, artifacts: db.artifacts, loadShedding: { maxInFlight: 1, maxEventLoopDelayMs: 0, retryAfterSeconds: 7 } });
  t.after(async () => {
    await app.close();
    await db.close();
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const search = `${url}/api/2.0/mlflow/registered-models/search`;
  assert.equal((await fetch(search)).status, 200, 'served while nothing else is in flight');

  // A request whose body never finishes: in flight from its headers on.
  const held = connect(Number(new URL(url).port), '127.0.0.1');
  t.after(() => held.destroy());
  held.write('POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"name":');

  const health = await until(`${url}/health`, 503);
  assert.equal(health.status, 503, '/health reports the pressure');
  assert.equal(health.headers.get('retry-after'), '7');
  assert.deepEqual(await health.json(), { status: 'overloaded', reason: '1 requests in progress (at most 1)' });

  const refused = await fetch(search);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '7');
  assert.ok(refused.headers.get('x-request-id'), 'a refusal carries its request id like any answer');
  const body = (await refused.json()) as { error_code: string; message: string; fix: string };
  assert.equal(body.error_code, 'TEMPORARILY_UNAVAILABLE', 'in the MLflow shape of the route');
  assert.match(body.message, /overloaded \(1 requests in progress \(at most 1\)\) and refused this request before doing any of it/);
  assert.match(body.fix, /retry after 7 s .*http\.loadShedding/);

  // The client goes away: its room is given back.
  held.destroy();
  assert.equal((await until(`${url}/health`, 200)).status, 200);
  assert.equal((await fetch(search)).status, 200);
});

test('http.loadShedding in the config: on with defaults, some overridden, or off', async (t) => {
  const cwd = await makeTempDir((fn) => t.after(fn));
  const http = loadConfig({ cwd, env: {}, overrides: { http: { loadShedding: { server: false, serve: { maxInFlight: 8 } } } } }).http;
  assert.equal(resolveLoadShedding(http.loadShedding.server), undefined);
  assert.deepEqual(resolveLoadShedding(http.loadShedding.serve), { ...LOAD_SHEDDING_DEFAULTS, maxInFlight: 8 });
  assert.deepEqual(resolveLoadShedding(loadConfig({ cwd, env: {} }).http.loadShedding.server), LOAD_SHEDDING_DEFAULTS);
  assert.throws(() => loadConfig({ cwd, env: {}, overrides: { http: { loadShedding: { server: { maxInFlight: 0 } } } } }), (error: Error) => /maxInFlight/.test(error.message));
});
