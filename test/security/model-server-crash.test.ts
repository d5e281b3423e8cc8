/**
 * Reproductions of requests that once crashed `loom serve` (issue 12, Robustness), run
 * against the real command over loopback: each must now get a 4xx answer and leave every
 * process running.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { before, test } from 'node:test';
import { runLoom } from '../support/cli.js';
import { makeTempDir } from '../support/flights.js';
import { buildServingRegistry } from '../support/serving-registry.js';
import { childPids, deeplyNested, freePort, rawExchange, rawRequest, startLoom, type RunningLoom } from './support.js';

let home: string;
let rows: Record<string, string | number>[];
let removeHome: (() => Promise<void>) | undefined;

before(async () => {
  home = await makeTempDir((fn) => {
    removeHome = fn;
  });
  const reg = await buildServingRegistry(home);
  rows = reg.rows.slice(0, 2);
  await reg.close();
});
test.after(async () => removeHome?.());

/** Names an object literal inherits: once looked up in the file allow-list, each found a "file". */
const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

async function infer(url: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> {
  return fetch(`${url}/v2/models/flights/infer`, { method: 'POST', headers, body: JSON.stringify({ instances: rows }) });
}

function assertAlive(server: RunningLoom): void {
  assert.equal(server.child.exitCode, null, `the server exited:\n${server.stderr()}`);
  assert.equal(server.child.signalCode, null, `the server was killed:\n${server.stderr()}`);
}

test('loom serve: prototype names under /ui/ort/ are 404s, and the worker keeps serving', async (t) => {
  const server = await startLoom(['serve', 'flights', '--workers', '1', '--port', '0', '--no-prediction-log'], { home, t });
  for (const name of PROTOTYPE_NAMES) {
    const response = await fetch(`${server.url}/ui/ort/${name}`);
    const text = await response.text();
    assert.equal(response.status, 404, `GET /ui/ort/${name}: ${text}`);
    assert.equal((JSON.parse(text) as { error_code: string }).error_code, 'NOT_FOUND');
  }
  assertAlive(server);
  assert.equal((await fetch(`${server.url}/ui/ort/ort.wasm.min.js`)).status, 200);
  assert.equal((await infer(server.url)).status, 200);
});

test('loom serve: malformed percent-encoding and deep nesting are 400s; a V2 body without Content-Type is JSON', async (t) => {
  const server = await startLoom(['serve', 'flights', '--workers', '1', '--port', '0', '--no-prediction-log'], { home, t });
  for (const path of ['/v1/models/%25', '/v1/models/flights/labels/%E0%A4%A', '/v1/models/%25:predict', '/v2/models/%25', '/v2/models/%E0%A4%A/ready', '/ui/models/%25/model.onnx', '/v1/predictions/flights/%25']) {
    const method = path.endsWith(':predict') ? 'POST' : 'GET';
    const response = await fetch(`${server.url}${path}`, { method, ...(method === 'POST' && { headers: { 'content-type': 'application/json' }, body: '{}' }) });
    assert.ok(response.status === 400 || response.status === 404, `${method} ${path}: ${response.status} ${await response.text()}`);
  }
  assert.equal((await fetch(`${server.url}/v1/models/%25`)).status, 400);

  // A 20 KB V2 body with tensor data nested 10,000 deep once overflowed the stack (500).
  const deep = `{"inputs":[{"name":"hour","shape":[1],"datatype":"INT64","data":${deeplyNested(10_000)}}]}`;
  const refused = await fetch(`${server.url}/v2/models/flights/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
  assert.equal(refused.status, 400, await refused.text());
  // A 10 MB one is refused as cheaply: before any parsing work, so well within the test's patience.
  const huge = `{"inputs":[{"name":"hour","shape":[1],"datatype":"INT64","data":${deeplyNested(5_000_000 - 40)}}]}`;
  const { responses } = await rawExchange(server.url, rawRequest('POST', '/v2/models/flights/infer', { headers: { 'content-type': 'application/json' }, body: huge }), 1);
  assert.equal(responses[0]?.status, 400);

  // tritonclient.http sends no Content-Type.
  const bare = await rawExchange(server.url, rawRequest('POST', '/v2/models/flights/infer', { body: JSON.stringify({ instances: rows }) }), 1);
  assert.equal(bare.responses[0]?.status, 200, bare.responses[0]?.body);
  assertAlive(server);
  assert.equal((await infer(server.url)).status, 200);
});

test('loom serve --workers 2: pipelined /metrics and a bad GET, and killed workers, never take the primary down', async (t) => {
  // A fixed port: with port 0, workers that replace the last one would listen on a new port.
  const server = await startLoom(['serve', 'flights', '--workers', '2', '--port', String(await freePort()), '--no-prediction-log'], { home, t });
  const pair = rawRequest('GET', '/metrics') + rawRequest('GET', '/ui/ort/constructor');
  for (let i = 0; i < 10; i++) {
    const { responses } = await rawExchange(server.url, pair, 2);
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 404],
      `try ${i}:\n${server.stderr()}`,
    );
  }
  assertAlive(server);

  // Workers die while the primary gathers metrics from them: it must survive the IPC
  // errors, start new workers, and hold accepted connections until one can answer.
  for (let round = 0; round < 2; round++) {
    const workers = await childPids(server.child.pid!);
    assert.equal(workers.length, 2, `round ${round}: workers ${workers.join(', ')}`);
    const scrapes = Array.from({ length: 20 }, () => fetch(`${server.url}/metrics`).then((r) => r.status, () => 0));
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const pid of workers) process.kill(pid, 'SIGKILL');
    await Promise.all(scrapes);
    // While no worker is up a request is refused or closed at once (the port reopens with
    // the first new worker), never left hanging; then new workers answer.
    // Generous: a worker opens the project and loads its models before it listens, on a busy machine.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const status = await fetch(`${server.url}/v2/health/ready`, { signal: AbortSignal.timeout(10_000) }).then(
        (response) => response.status,
        (error: Error) => (error.name === 'TimeoutError' ? assert.fail(`a request hung while workers were down:\n${server.stderr()}`) : 0),
      );
      if (status === 200) break;
      if (Date.now() > deadline) assert.fail(`workers were not replaced:\n${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await infer(server.url)).status, 200);
    assertAlive(server);
    // Both replacements up before the next round.
    while ((await childPids(server.child.pid!)).length < 2 || !/ready/.test(await fetch(`${server.url}/v2/health/ready`).then((r) => r.text()))) {
      if (Date.now() > deadline) assert.fail(`workers were not replaced:\n${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  assert.equal((await infer(server.url)).status, 200);
  assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.stderr());
});

test('loom serve --workers 2 on a port in use gives up with a non-zero exit code', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const result = await runLoom(['serve', 'flights', '--workers', '2', '--port', String(port), '--no-prediction-log'], { cwd: home, env: { LOOM_HOME: home } });
    assert.notEqual(result.code, 0, result.stderr);
    assert.match(result.stderr, /--port/);
  } finally {
    blocker.close();
  }
});
