/**
 * Hostile traffic against every route of `loom serve` and `loom server` (issue 12): prototype
 * names in every path segment, malformed percent-encodings, deep nesting, huge arrays,
 * wrong content types, pipelined requests and slow bodies, at least 10,000 requests over
 * real loopback sockets. Not one may get a 5xx; both processes must live, their memory stay
 * bounded, and a normal request must still succeed afterwards.
 *
 * The routes are read from the apps themselves (Fastify's route tree), so a route added
 * later is fuzzed too. The request mix is generated from a fixed seed: a failure replays.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { before, test } from 'node:test';
import { batchAndBrowserPlugins } from '../../src/serve/server-plugins.js';
import { buildModelServer } from '../../src/serve/server.js';
import { buildPlatformApp } from '../../src/server/server.js';
import { makeTempDir } from '../support/flights.js';
import { buildServingRegistry } from '../support/serving-registry.js';
import { routesOf, type RouteTemplate } from '../support/routes.js';
import { deeplyNested, rawExchange, rawRequest, startLoom, type RawResponse } from './support.js';
import { mulberry32 } from '../../src/core/random.js';

/** At least this many hostile requests in all. */
const TARGET = 10_000;
/** Requests written back to back on one connection before reading the answers. */
const PIPELINE = 25;

let home: string;
let rows: Record<string, string | number>[];
let modelRoutes: RouteTemplate[];
let platformRoutes: RouteTemplate[];
let removeHome: (() => Promise<void>) | undefined;

before(async () => {
  home = await makeTempDir((fn) => {
    removeHome = fn;
  });
  const reg = await buildServingRegistry(home);
  rows = reg.rows.slice(0, 2);
  // Every route of both apps, exactly as they are built for serving.
  const model = await buildModelServer({
    models: ['flights'],
    registry: reg.db.registry,
    artifacts: reg.artifacts,
    watchIntervalMs: 0,
    plugins: batchAndBrowserPlugins({ metadata: reg.db.metadata, artifacts: reg.artifacts, defaultModel: 'flights' }),
  });
  modelRoutes = await routesOf(model.app);
  await model.close();
  const platform = await buildPlatformApp({ db: reg.db, artifacts: reg.artifacts });
  platformRoutes = await routesOf(platform);
  await platform.close();
  await reg.close();
});
test.after(async () => removeHome?.());



const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'prototype', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
const SEGMENTS = [
  ...PROTOTYPE_NAMES,
  '%',
  '%25',
  '%E0%A4%A',
  '%ZZ',
  '%00',
  '%C0%AF',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  'a'.repeat(300),
  'x'.repeat(5000),
  '%F0%9F%92%A9',
  '',
  'flights',
  '1',
  '-1',
  '99999999999999999999999',
  'NaN',
  'flights:predict',
  'ort.wasm.min.js',
];
const QUERIES = [
  '',
  '?name=constructor&version=__proto__',
  '?__proto__[polluted]=1&constructor[prototype][x]=1',
  '?name=%&run_id=%E0%A4%A',
  '?max_results=-1&page_token=%00&filter=name%3D%27',
  `?model=${'m'.repeat(3000)}&version=1e309`,
  '?path=../../../../etc/passwd&experiment_ids=1&experiment_ids=2',
  '?model=toString&version=1',
];
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'text/csv', undefined, 'application/json; charset=utf-16', 'constructor/__proto__'];

function bodies(): string[] {
  const row = rows[0]!;
  return [
    '',
    'null',
    '[]',
    '"a string"',
    '12',
    '{',
    '{"a":',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    deeplyNested(100),
    deeplyNested(20_000),
    `{"inputs":[{"name":"hour","shape":[1],"datatype":"INT64","data":${deeplyNested(5000)}}]}`,
    `{"inputs":[{"name":"__proto__","shape":[-1,99999999999],"datatype":"constructor","data":{}}]}`,
    `{"inputs":[{"name":"hour","shape":[3],"datatype":"INT64","data":[1,2]}],"outputs":[{"name":"toString"}]}`,
    JSON.stringify({ instances: [{ ...row, hour: 'constructor' }, { __proto__: 1 }] }),
    JSON.stringify({ instances: Array.from({ length: 20_000 }, () => row) }),
    JSON.stringify({ inputs: Object.fromEntries(Object.keys(row).map((k) => [k, Array.from({ length: 50_000 }, () => 1)])) }),
    JSON.stringify({ dataframe_split: { columns: ['constructor', '__proto__'], data: [[1, 2]] } }),
    JSON.stringify({ dataframe_records: [row], instances: [row] }),
    'hour,weekday\n"unterminated',
    JSON.stringify({ name: 'constructor', experiment_id: '__proto__', run_id: 'toString', key: 'hasOwnProperty', value: 1, version: '__proto__', alias: 'valueOf' }),
    JSON.stringify({ name: 'x'.repeat(100_000), tags: [{ key: '__proto__', value: 'x' }] }),
    JSON.stringify({ run_id: 'r', metrics: Array.from({ length: 5000 }, (_, i) => ({ key: 'm', value: i, timestamp: 1 })) }),
    JSON.stringify({ experiment_ids: ['__proto__'], filter: "attributes.status = 'X' AND (((((", max_results: 1e308 }),
    JSON.stringify({ filter: "name = 'a' OR 1=1; DROP TABLE runs; --" }),
  ];
}

/** A hostile request for a route: its params replaced, a query, a body and a content type. */
function hostileRequest(route: RouteTemplate, next: () => number, pool: string[]): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  let path = route.url.replace(/:[A-Za-z]+/g, () => pick(SEGMENTS) || 'x');
  path = path.replace(/\*/, () => Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(SEGMENTS)).join('/'));
  path += pick(QUERIES);
  const hasBody = route.method !== 'GET' && route.method !== 'DELETE' ? true : next() < 0.1;
  const headers: Record<string, string> = { 'x-loom-actor': pick(PROTOTYPE_NAMES) };
  if (next() < 0.05) headers['x-loom-model'] = pick(SEGMENTS) || 'x';
  if (!hasBody) return rawRequest(route.method, path, { headers });
  const contentType = pick(CONTENT_TYPES);
  if (contentType) headers['content-type'] = contentType;
  return rawRequest(route.method, path, { headers, body: pick(pool) });
}

interface FuzzResult {
  sent: number;
  answered: number;
  fiveHundreds: { request: string; response: RawResponse }[];
  /** Requests sent alone that got no answer before the server closed the connection. */
  unanswered: string[];
}

/** Sends the requests pipelined, `PIPELINE` per connection, a few connections at once; requests a connection lost are sent again alone. */
async function fuzz(url: string, requests: string[]): Promise<FuzzResult> {
  const result: FuzzResult = { sent: 0, answered: 0, fiveHundreds: [], unanswered: [] };
  const batches: string[][] = [];
  for (let i = 0; i < requests.length; i += PIPELINE) batches.push(requests.slice(i, i + PIPELINE));
  const retry: string[] = [];
  const run = async (batch: string[]) => {
    result.sent += batch.length;
    const { responses } = await rawExchange(url, batch.join(''), batch.length, 60_000);
    responses.forEach((response, i) => {
      result.answered++;
      if (response.status >= 500) result.fiveHundreds.push({ request: batch[i]!.slice(0, 300), response });
    });
    // A request that ends its connection (a refused upload) leaves the rest of the batch unanswered.
    if (responses.length < batch.length) {
      if (batch.length === 1) result.unanswered.push(batch[0]!.slice(0, 300));
      else retry.push(...batch.slice(responses.length));
    }
  };
  const workers = Array.from({ length: 4 }, async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) await run(batch);
  });
  await Promise.all(workers);
  for (const request of retry) await run([request]);
  return result;
}

/** Connections that send a body one byte at a time, held open while the fuzzing runs. */
function slowClients(url: string, count: number): { stop(): void } {
  const { hostname, port } = new URL(url);
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.on('error', () => {});
    socket.write(`POST /v2/models/flights/infer HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n`);
    sockets.push(socket);
  }
  const timer = setInterval(() => sockets.forEach((socket) => socket.writable && socket.write('[')), 100);
  return {
    stop() {
      clearInterval(timer);
      sockets.forEach((socket) => socket.destroy());
    },
  };
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

test('10,000 hostile requests to every route of both servers: no 5xx, no exit, bounded memory, and normal requests still answered', async (t) => {
  const serve = await startLoom(['serve', 'flights', '--workers', '1', '--port', '0', '--no-prediction-log', '--watch-interval', '0'], { home, t });
  const api = await startLoom(['server', '--port', '0'], { home, t });
  const infer = () => fetch(`${serve.url}/v2/models/flights/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) });
  const search = () => fetch(`${api.url}/api/2.0/mlflow/registered-models/search`);
  assert.equal((await infer()).status, 200);
  assert.equal((await search()).status, 200);
  const rssBefore = { serve: await rssOf(serve.child.pid!), api: await rssOf(api.child.pid!) };

  const next = mulberry32(12);
  const pool = bodies();
  const perServer = (routes: RouteTemplate[]) => {
    const requests: string[] = [];
    // Every route at least a few dozen times, then at random until the share is reached.
    for (const route of routes) for (let i = 0; i < 30; i++) requests.push(hostileRequest(route, next, pool));
    while (requests.length < TARGET / 2) requests.push(hostileRequest(routes[Math.floor(next() * routes.length)]!, next, pool));
    return requests;
  };
  const modelRequests = perServer(modelRoutes);
  const platformRequests = perServer(platformRoutes);
  // Two 10 MB bodies nested all the way down, refused before any parsing.
  const huge = deeplyNested(5_000_000);
  modelRequests.push(rawRequest('POST', '/v2/models/flights/infer', { headers: { 'content-type': 'application/json' }, body: huge }));
  platformRequests.push(rawRequest('POST', '/api/2.0/mlflow/runs/log-batch', { headers: { 'content-type': 'application/json' }, body: huge }));

  const slow = [slowClients(serve.url, 20), slowClients(api.url, 20)];
  const [model, platform] = await Promise.all([fuzz(serve.url, modelRequests), fuzz(api.url, platformRequests)]);
  slow.forEach((clients) => clients.stop());
  // Request lines and headers HTTP itself refuses: answered 4xx (or closed), never a crash.
  for (const url of [serve.url, api.url]) {
    for (const raw of ['GET /%%% HTTP/1.1\r\nhost: x\r\n\r\n', 'GARBAGE\r\n\r\n', `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'h'.repeat(20_000)}\r\n\r\n`, 'GET / HTTP/9.9\r\n\r\n']) {
      const { responses } = await rawExchange(url, raw, 1);
      assert.ok(responses.every((r) => r.status < 500), `${JSON.stringify(raw.slice(0, 40))}: ${responses.map((r) => r.status)}`);
    }
  }

  const total = model.answered + platform.answered;
  assert.ok(total >= TARGET, `only ${total} requests were answered (model ${model.answered}/${model.sent}, platform ${platform.answered}/${platform.sent})`);
  const failures = [...model.fiveHundreds, ...platform.fiveHundreds];
  assert.deepEqual(
    failures.map((f) => `${f.response.status} ${f.request.split('\r\n')[0]}: ${f.response.body.slice(0, 200)}`),
    [],
    'requests answered with a 5xx',
  );
  // Every request got an answer, even those that ended their connection (sent again alone).
  assert.deepEqual([...model.unanswered, ...platform.unanswered], []);
  for (const server of [serve, api]) {
    assert.equal(server.child.exitCode, null, server.stderr());
    assert.equal(server.child.signalCode, null, server.stderr());
  }
  assert.equal((await infer()).status, 200);
  assert.equal((await search()).status, 200);
  // Generous: garbage collection runs when it likes, but the 2 GiB climbs of old are caught.
  for (const [name, pid] of [['serve', serve.child.pid!], ['api', api.child.pid!]] as const) {
    const after = await rssOf(pid);
    const before = rssBefore[name];
    assert.ok(after < before + 512 * 1024 * 1024, `${name}: RSS grew from ${Math.round(before / 2 ** 20)} MiB to ${Math.round(after / 2 ** 20)} MiB`);
  }
});
