/**
 * Reproductions of resource abuse and 5xx answers on both servers (issue 12): upload caps,
 * timeouts for clients that trickle, malformed encodings and overlong names. Each server is
 * the real app on a loopback port, with small limits where the test needs them.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { startModelServer } from '../../src/serve/server.js';
import { startPlatformServer, type PlatformServerOptions } from '../../src/server/server.js';
import { openTestPlatform } from '../support/databases.js';
import { makeTempDir } from '../support/flights.js';
import { buildServingRegistry, type ServingRegistry } from '../support/serving-registry.js';
import { rawExchange, rawRequest, trickle } from './support.js';

let dir: string;
let reg: ServingRegistry;
let removeDir: (() => Promise<void>) | undefined;

before(async () => {
  dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  reg = await buildServingRegistry(dir);
});
test.after(async () => {
  await reg.close();
  await removeDir?.();
});

const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
/** Timeouts short enough for a test, long enough for a busy machine to read a request sent at once. */
const QUICK = { requestTimeoutMs: 1500, headersTimeoutMs: 1000, keepAliveTimeoutMs: 500, idleTimeoutMs: 5000 };

async function platform(t: { after(fn: () => Promise<void>): void }, limits: PlatformServerOptions['limits'] = {}) {
  const db = await openTestPlatform(join(dir, `platform-${Math.random().toString(36).slice(2)}`));
  const server = await startPlatformServer({ port: 0, db, artifacts: db.artifacts, limits });
  t.after(async () => {
    await server.close();
    await db.close();
  });
  return server;
}

test('platform API: an overlong artifact file name is a 400 that names no server path', async (t) => {
  const server = await platform(t);
  for (const path of [`1/abc/artifacts/${'x'.repeat(300)}`, `1/${'d'.repeat(300)}/model.pkl`, `1/abc/${'a/'.repeat(2000)}f`]) {
    const response = await fetch(`${server.url}${ARTIFACTS}/${path}`, { method: 'PUT', body: 'hello' });
    const text = await response.text();
    assert.equal(response.status, 400, text);
    assert.equal((JSON.parse(text) as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');
    assert.ok(!text.includes(dir) && !text.includes('/tmp/'), `the answer leaks a server path: ${text}`);
  }
});

test('platform API: artifact uploads are capped per server (413), declared or streamed; smaller ones are stored', async (t) => {
  const server = await platform(t, { uploadBytes: 1024 });
  const put = (path: string, body: string | ReadableStream, init: RequestInit = {}) => fetch(`${server.url}${ARTIFACTS}/1/run/artifacts/${path}`, { method: 'PUT', body, ...init });
  assert.equal((await put('small.bin', 'x'.repeat(1024))).status, 200);
  assert.equal(await (await fetch(`${server.url}${ARTIFACTS}/1/run/artifacts/small.bin`)).text(), 'x'.repeat(1024));
  const declared = await put('big.bin', 'x'.repeat(1025));
  assert.equal(declared.status, 413);
  assert.equal(((await declared.json()) as { error_code: string }).error_code, 'RESOURCE_EXHAUSTED');
  // Chunked: no length declared, the cap is counted as the bytes arrive.
  const chunks = new ReadableStream({
    start(controller) {
      for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode('y'.repeat(512)));
      controller.close();
    },
  });
  const streamed = await put('streamed.bin', chunks, { duplex: 'half' } as RequestInit);
  assert.equal(streamed.status, 413);
  const listed = (await (await fetch(`${server.url}${ARTIFACTS}?path=1/run/artifacts`)).json()) as { files: { path: string }[] };
  assert.deepEqual(listed.files.map((f) => f.path), ['small.bin'], 'a refused upload leaves no file');
});

test('platform API: the default upload cap refuses a declared 1 GiB upload before reading it', async (t) => {
  const server = await platform(t);
  const head = `PUT ${ARTIFACTS}/1/run/artifacts/huge.bin HTTP/1.1\r\nhost: localhost\r\ncontent-length: ${1024 ** 3}\r\n\r\n`;
  const { responses } = await rawExchange(server.url, head, 1);
  assert.equal(responses[0]?.status, 413);
});

test('platform API: malformed percent-encoding and deep JSON are 400s in MLflow shape', async (t) => {
  const server = await platform(t);
  for (const path of [`${ARTIFACTS}/%E0%A4%A`, `${ARTIFACTS}/1/%25/x`, '/api/2.0/mlflow/registered-models/get?name=%E0%A4%A', '/api/2.0/mlflow/%25', '/api/2.0/mlflow/registered-models/%ZZ']) {
    const response = await fetch(`${server.url}${path}`);
    assert.ok(response.status >= 400 && response.status < 500, `GET ${path}: ${response.status}`);
  }
  assert.equal((await fetch(`${server.url}${ARTIFACTS}/%E0%A4%A`)).status, 400);
  const deep = `{"run_id":"r","metrics":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  const response = await fetch(`${server.url}/api/2.0/mlflow/runs/log-batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
  assert.equal(response.status, 400);
  assert.equal(((await response.json()) as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');
});

test('both servers: a client trickling its body or headers is cut off, and an idle keep-alive connection is closed', async (t) => {
  const api = await platform(t, QUICK);
  const model = await startModelServer({ port: 0, models: ['flights'], registry: reg.db.registry, artifacts: reg.artifacts, watchIntervalMs: 0, limits: QUICK });
  t.after(() => model.close());
  const body = JSON.stringify({ instances: reg.rows.slice(0, 2) });
  for (const [url, path] of [[api.url, '/api/2.0/mlflow/experiments/create'], [model.url, '/v2/models/flights/infer']] as const) {
    // One byte every 200 ms: the whole request would take minutes.
    const head = `POST ${path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const slowBody = await trickle(url, head, body, 200);
    assert.ok(slowBody.bytesSent < body.length, `${url}: the trickled body was read to its end`);
    assert.match(slowBody.answer, /^(HTTP\/1\.1 408|$)/, `${url}: ${slowBody.answer}`);
    const slowHeaders = await trickle(url, `GET /metrics HTTP/1.1\r\n`, 'x-padding: '.padEnd(400, 'p'), 200);
    assert.ok(slowHeaders.bytesSent < 400, `${url}: trickled headers were read to their end`);
    // A finished request on a keep-alive connection, then silence: the server closes it.
    const idle = await rawExchange(url, rawRequest('GET', '/metrics'), 2, 20_000);
    assert.equal(idle.responses[0]?.status, 200);
    assert.equal(idle.closed, true);
  }
});

test('model server: a body over the limit is a 413 and deep V2 nesting a 400, both as KServe errors', async (t) => {
  const model = await startModelServer({ port: 0, models: ['flights'], registry: reg.db.registry, artifacts: reg.artifacts, watchIntervalMs: 0, limits: { bodyBytes: 4096, jsonDepth: 8 } });
  t.after(() => model.close());
  const post = (body: string) => fetch(`${model.url}/v2/models/flights/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const big = await post(JSON.stringify({ instances: Array.from({ length: 100 }, () => reg.rows[0]) }));
  assert.equal(big.status, 413);
  assert.equal(((await big.json()) as { error_code: string }).error_code, 'RESOURCE_EXHAUSTED');
  const deep = await post(`{"inputs":[{"name":"hour","shape":[1],"datatype":"INT64","data":${'['.repeat(9)}1${']'.repeat(9)}}]}`);
  assert.equal(deep.status, 400);
  assert.deepEqual(await deep.json(), { error: 'the request body nests arrays or objects more than 8 deep', error_code: 'INVALID_ARGUMENT', field: 'body', fix: 'send tensors flat, with their shape in "shape"' });
  assert.equal((await post(JSON.stringify({ instances: reg.rows.slice(0, 2) }))).status, 200);
});
