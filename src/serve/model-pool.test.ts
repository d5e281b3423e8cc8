import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTempDir } from '../../test/support/flights.js';
import { TEST_ACTOR, buildServingRegistry, type ServingRegistry } from '../../test/support/serving-registry.js';
import { ParquetPredictionSink } from './prediction-sinks.js';
import { startModelServer, type ModelServer } from './server.js';

let reg: ServingRegistry;
let dir: string;
const cleanups: (() => Promise<void>)[] = [];
const quiet = { info() {}, warn() {} };

before(async () => {
  dir = await makeTempDir((fn) => void cleanups.push(fn));
  reg = await buildServingRegistry(dir);
});

after(async () => {
  await reg?.close();
  for (const cleanup of cleanups) await cleanup();
});

async function serve(models: string[], extra: { log?: boolean } = {}): Promise<ModelServer> {
  const server = await startModelServer({
    port: 0,
    models,
    registry: reg.db.registry,
    artifacts: reg.artifacts,
    deployments: reg.db.deployments,
    watchIntervalMs: 0,
    logger: quiet,
    predictionLog: extra.log ? new ParquetPredictionSink(`${dir}/predictions-${models.join('-') || 'all'}`) : undefined,
  });
  cleanups.unshift(() => server.close());
  return server;
}

async function infer(server: ModelServer, name: string): Promise<{ status: number; version?: string }> {
  const response = await fetch(`${server.url}/v2/models/${name}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: reg.rows.slice(0, 2) }) });
  const body = (await response.json()) as { model_version?: string };
  return { status: response.status, version: body.model_version };
}

/** Registers `name` with the flights model file as version 1 and points `champion` at it. */
async function register(name: string): Promise<void> {
  await reg.db.registry.ensureRegisteredModel(name);
  const version = await reg.db.registry.createModelVersion({ modelName: name, source: reg.fixture.servingModel.uri, status: 'READY', signature: reg.signature });
  await reg.db.registry.setAlias(name, 'champion', version.version, TEST_ACTOR);
}

test('a configured model registered after the server started is served once it exists', async () => {
  const server = await serve(['flights@champion', 'trains@champion']);
  assert.equal((await infer(server, 'flights')).status, 200);
  assert.equal((await infer(server, 'trains')).status, 404, 'not registered yet');
  await server.refresh();
  assert.equal((await infer(server, 'trains')).status, 404, 'still not registered: the retry fails quietly');
  await register('trains');
  await server.refresh();
  assert.deepEqual(await infer(server, 'trains'), { status: 200, version: '1' });
});

test('with no models named, a model given a champion after the start is served too', async () => {
  const server = await serve([]);
  assert.equal((await infer(server, 'boats')).status, 404);
  await register('boats');
  await server.refresh();
  assert.deepEqual(await infer(server, 'boats'), { status: 200, version: '1' });
  assert.equal((await infer(server, 'flights')).status, 200);
});

test('error metrics are labelled by served model names only; a made-up name counts as (unknown)', async () => {
  const server = await serve(['flights@champion']);
  for (let i = 0; i < 5; i++) assert.equal((await infer(server, `made-up-${i}`)).status, 404);
  const bad = await fetch(`${server.url}/v2/models/flights/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"instances": [{}]}' });
  assert.equal(bad.status, 400);
  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(text, /loom_serve_request_errors_total\{model="\(unknown\)",status="404"\} 5\b/);
  assert.match(text, /loom_serve_request_errors_total\{model="flights",status="400"\} 1\b/);
  assert.doesNotMatch(text, /made-up/);
});

test('a version that is both the primary and the shadow or canary is loaded once', async () => {
  const server = await serve(['flights@champion']);
  const [v1, v2] = reg.good;
  await reg.db.deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion', canary: { ref: `flights@${v2}`, weight: 0.5 }, shadow: `flights@${v1}` }, TEST_ACTOR);
  await server.refresh();
  // Three slots (champion, v2, v1), two versions: champion and v1 share one session.
  assert.deepEqual(server.pool.status('flights').map((slot) => slot.version), [v1, v2, v1]);
  assert.deepEqual(server.loaded.map((model) => model.version.version).sort(), [v1, v2]);
  const answers = await Promise.all(Array.from({ length: 40 }, () => infer(server, 'flights')));
  assert.ok(answers.every((answer) => answer.status === 200));
  assert.deepEqual(new Set(answers.map((answer) => answer.version)), new Set([String(v1), String(v2)]));
  // Dropping the canary closes v2 (no slot uses it); v1 keeps serving under both its slots.
  await reg.db.deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion', shadow: `flights@${v1}` }, TEST_ACTOR);
  await server.refresh();
  assert.deepEqual(server.loaded.map((model) => model.version.version), [v1]);
  assert.equal((await infer(server, 'flights')).version, String(v1));
  await reg.db.deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion' }, TEST_ACTOR);
  await server.refresh();
});

test('a shadow whose alias moves under load: every request and every shadow copy succeeds', async () => {
  const server = await serve(['flights@champion'], { log: true });
  const [v1, v2] = reg.good;
  await reg.db.registry.setAlias('flights', 'challenger', v2, TEST_ACTOR);
  await reg.db.deployments.setDeployment({ modelName: 'flights', primary: `flights@${v1}`, shadow: 'flights@challenger' }, TEST_ACTOR);
  await server.refresh();
  let running = true;
  const statuses: number[] = [];
  const client = async () => {
    while (running) statuses.push((await infer(server, 'flights')).status);
  };
  const clients = Array.from({ length: 12 }, () => client());
  try {
    for (let move = 0; move < 6; move++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      // To v1 (then the primary's own session, so the copy is skipped) and back to v2 (loaded again).
      await reg.db.registry.setAlias('flights', 'challenger', move % 2 === 0 ? v1 : v2, TEST_ACTOR);
      await server.refresh();
    }
  } finally {
    running = false;
    await Promise.all(clients);
  }
  assert.ok(statuses.length > 50, `${statuses.length} requests`);
  assert.deepEqual([...new Set(statuses)], [200]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.doesNotMatch(text, /loom_serve_request_errors_total\{[^}]*status="500"\}/, 'no shadow copy ran on a released session');
  assert.match(text, /loom_serve_swaps_total\{model="flights",result="ok"\} 6\b/);
  await reg.db.deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion' }, TEST_ACTOR);
});
