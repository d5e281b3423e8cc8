import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTempDir } from '../../test/support/flights.js';
import { TEST_ACTOR, buildServingRegistry, type ServingRegistry } from '../../test/support/serving-registry.js';
import { startModelServer, type ModelServer } from './server.js';

let reg: ServingRegistry;
let server: ModelServer;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  const dir = await makeTempDir((fn) => void cleanups.push(fn));
  reg = await buildServingRegistry(dir);
  server = await startModelServer({
    port: 0,
    models: ['flights@champion'],
    registry: reg.db.registry,
    artifacts: reg.artifacts,
    watchIntervalMs: 20,
    logger: { info() {}, warn() {} },
  });
});

after(async () => {
  await server?.close();
  await reg?.close();
  for (const cleanup of cleanups) await cleanup();
});

interface Answer {
  startedAt: number;
  version: string | undefined;
  ok: boolean;
  detail?: string;
}

/** Keeps `connections` clients sending V2 requests over real HTTP until `stop()`. */
function sustainedLoad(url: string, body: string, connections: number) {
  const answers: Answer[] = [];
  let running = true;
  let tick = 0;
  const client = async () => {
    while (running) {
      const startedAt = tick++;
      try {
        const response = await fetch(`${url}/v2/models/flights/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const json = (await response.json()) as { model_version?: string; error?: string };
        answers.push({ startedAt, version: json.model_version, ok: response.status === 200, detail: response.ok ? undefined : `${response.status} ${json.error}` });
      } catch (error) {
        answers.push({ startedAt, version: undefined, ok: false, detail: String(error) });
      }
    }
  };
  const clients = Array.from({ length: connections }, client);
  return {
    answers,
    /** The tick a request starting now would get. */
    now: () => tick,
    async stop() {
      running = false;
      await Promise.all(clients);
    },
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('ten alias moves under sustained concurrent load: no failed request, and new requests get the new version', async () => {
  const body = JSON.stringify({ instances: reg.rows.slice(0, 3) });
  const load = sustainedLoad(server.url, body, 8);
  try {
    await until(() => load.answers.length > 50, 'the load to start');
    for (let move = 1; move <= 10; move++) {
      const target = reg.good[move % 2]!;
      await reg.db.registry.setAlias('flights', 'champion', target, { ...TEST_ACTOR, reason: `move ${move}` });
      await until(() => load.answers.at(-1)?.version === String(target), `answers from version ${target}`);
      // Every request that starts from here on must be answered by the new version.
      const from = load.now();
      await until(() => load.answers.filter((a) => a.startedAt >= from).length >= 20, 'more answers');
      const later = load.answers.filter((a) => a.startedAt >= from);
      assert.deepEqual([...new Set(later.map((a) => a.version))], [String(target)], `after move ${move} only version ${target} answers`);
    }
  } finally {
    await load.stop();
  }
  const failed = load.answers.filter((a) => !a.ok);
  assert.equal(failed.length, 0, `failed requests: ${failed.slice(0, 3).map((a) => a.detail).join('; ')}`);
  assert.ok(load.answers.length > 200, `${load.answers.length} requests were sent`);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /loom_serve_swaps_total\{model="flights",result="ok"\} 10\b/);
});

test('an alias moved to a corrupt version: the load is refused, the old version keeps serving, and the failure is reported', async () => {
  const before = server.pool.route('flights').model.version.version;
  await reg.db.registry.setAlias('flights', 'champion', reg.corrupt, TEST_ACTOR);
  await server.refresh();
  const response = await fetch(`${server.url}/v2/models/flights/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: reg.rows.slice(0, 2) }) });
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { model_version: string }).model_version, String(before));

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /loom_serve_swaps_total\{model="flights",result="failed"\} 1\b/);
  const meta = (await (await fetch(`${server.url}/v2/models/flights`)).json()) as { parameters: { loom_status: { lastSwapError?: { version: number; message: string } }[] } };
  assert.equal(meta.parameters.loom_status[0]?.lastSwapError?.version, reg.corrupt);
  assert.match(meta.parameters.loom_status[0]?.lastSwapError?.message ?? '', /cannot be loaded/);
  const tf = (await (await fetch(`${server.url}/v1/models/flights`)).json()) as { model_version_status: { version: string; state: string; status: { error_code: string } }[] };
  assert.deepEqual(tf.model_version_status.map((s) => [s.version, s.state]), [[String(before), 'AVAILABLE'], [String(reg.corrupt), 'END']]);

  // Moving the alias to a good version again swaps and clears the failure.
  const other = reg.good.find((v) => v !== before)!;
  await reg.db.registry.setAlias('flights', 'champion', other, TEST_ACTOR);
  await server.refresh();
  assert.equal(server.pool.route('flights').model.version.version, other);
  assert.equal(server.pool.status('flights')[0]?.lastSwapError, undefined);
});
