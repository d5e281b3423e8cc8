// The Loom read API and the dashboard's static files, through Fastify's inject over a real
// SQLite project (test/e2e/dashboard.test.ts drives both in a browser on a real pipeline's data).
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openTestPlatform } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { platformApp } from '../../../test/support/platform-app.js';
import { buildPlatformApp } from '../server.js';

test('pipeline runs page on the server, filter by state, and validate their query strings', async (t) => {
  const { server, db } = await platformApp(t);
  for (let i = 0; i < 5; i++) {
    await db.metadata.putContext({ typeName: 'pipeline_run', name: `run-${i}`, properties: { pipeline: 'flights', state: i % 2 === 0 ? 'COMPLETE' : 'FAILED', startedAt: 1000 + i } });
  }
  const first = (await server.inject('/api/loom/pipeline-runs?max_results=2')).json();
  assert.equal(first.runs.length, 2);
  const second = (await server.inject(`/api/loom/pipeline-runs?max_results=2&page_token=${first.next_page_token}`)).json();
  assert.equal(new Set([...first.runs, ...second.runs].map((r: { runId: string }) => r.runId)).size, 4, 'pages do not overlap');
  const failed = (await server.inject('/api/loom/pipeline-runs?state=FAILED')).json();
  assert.deepEqual(failed.runs.map((r: { runId: string }) => r.runId).sort(), ['run-1', 'run-3']);
  const bad = await server.inject('/api/loom/pipeline-runs?max_results=0');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error_code, 'INVALID_PARAMETER_VALUE');
  assert.equal(bad.json().field, 'max_results');
  const missing = await server.inject('/api/loom/pipeline-runs/no-such-run');
  assert.deepEqual([missing.statusCode, missing.json().error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);
  assert.match(missing.json().fix, /loom runs/);
});

test('alias history and rollback through the API, and the refusal when nothing came before', async (t) => {
  const { server, db } = await platformApp(t);
  await db.registry.ensureRegisteredModel('flights');
  for (let v = 0; v < 2; v++) await db.registry.createModelVersion({ modelName: 'flights', source: `file:///models/${v}`, status: 'READY' });
  const who = { actor: 'ana', reason: 'test' };
  await db.registry.setAlias('flights', 'champion', 1, who);
  await db.registry.setAlias('flights', 'champion', 2, who);

  const history = (await server.inject('/api/loom/models/flights/aliases/champion/history')).json();
  assert.deepEqual(history.moves.map((m: { version: number }) => m.version), [2, 1], 'newest first');
  const rolled = await server.inject({ method: 'POST', url: '/api/loom/models/flights/aliases/champion/rollback', headers: { 'x-loom-actor': 'bo' } });
  assert.equal(rolled.statusCode, 200);
  assert.deepEqual([rolled.json().move.version, rolled.json().move.kind, rolled.json().move.actor], [1, 'rollback', 'bo']);
  assert.equal((await db.registry.getVersionByAlias('flights', 'champion'))?.version, 1);
  const refused = await server.inject({ method: 'POST', url: '/api/loom/models/flights/aliases/champion/rollback' });
  assert.deepEqual([refused.statusCode, refused.json().error_code], [412, 'INVALID_STATE']);
  const unknown = await server.inject('/api/loom/models/nosuch/aliases/champion/history');
  assert.equal(unknown.statusCode, 404);
});

test('datasets and deployments answer empty lists on a new project; a bad version is refused before any lookup', async (t) => {
  const { server } = await platformApp(t);
  assert.deepEqual((await server.inject('/api/loom/datasets')).json(), { versions: [] });
  assert.deepEqual((await server.inject('/api/loom/deployments')).json(), { deployments: [] });
  const bad = await server.inject('/api/loom/datasets/not-a-hash');
  assert.deepEqual([bad.statusCode, bad.json().field], [400, 'version']);
  const token = await server.inject('/api/loom/datasets?page_token=abc');
  assert.deepEqual([token.statusCode, token.json().field], [400, 'page_token']);
});

test('the dashboard is served at / with its own URLs answered by index.html; other paths keep the API 404', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const built = join(dir, 'dashboard');
  await mkdir(join(built, 'assets'), { recursive: true });
  await writeFile(join(built, 'index.html'), '<!doctype html><title>Loom</title>');
  await writeFile(join(built, 'assets', 'index-abc.js'), 'console.log(1)');
  const db = await openTestPlatform(join(dir, 'project'));
  const server = await buildPlatformApp({ db, artifacts: db.artifacts, dashboardDir: built });
  t.after(async () => {
    await server.close();
    await db.close();
  });
  for (const url of ['/', '/models/flights', '/pipelines/run-1?step=train', '/experiments']) {
    const page = await server.inject(url);
    assert.equal(page.statusCode, 200, url);
    assert.match(page.body, /<title>Loom<\/title>/, url);
    assert.equal(page.headers['cache-control'], 'no-cache', url);
  }
  const asset = await server.inject('/assets/index-abc.js');
  assert.equal(asset.statusCode, 200);
  assert.match(String(asset.headers['cache-control']), /immutable/);
  for (const url of ['/api/2.0/mlflow/nope', '/assets/missing.js', '/elsewhere', '/assets/../../project/loom.db']) {
    const response = await server.inject(url);
    assert.equal(response.statusCode, 404, url);
    assert.equal(response.json().error_code, 'ENDPOINT_NOT_FOUND', url);
  }

  const unbuilt = await buildPlatformApp({ db, artifacts: db.artifacts, dashboardDir: join(dir, 'never-built') });
  t.after(() => unbuilt.close());
  const answer = await unbuilt.inject('/');
  assert.equal(answer.statusCode, 404);
  assert.match(answer.json().fix, /npm run build/);
});
