/**
 * The online model server against references measured in the same run (issue 6 goals):
 *  1. Throughput at 50 concurrent connections (autocannon): `loom serve`'s V2 infer of the
 *     demo-like model (one flight per request) vs a bare Fastify hello-world. Goal: ≥ 0.8×,
 *     p99 ≤ 2 ms.
 *  2. Overhead per request at 1 connection over calling ONNX Runtime directly in-process.
 *     Goal ≤ 50 µs. Reported two ways: in-process (Loom's whole request path without HTTP:
 *     validation, tensors, micro-batcher, output conversion, metrics, prediction log) and over
 *     HTTP (model latency − a bare Fastify POST of the same body − direct ORT time).
 *  3. Hot swap under load: 10 alias moves during a 50-connection run; failed requests counted.
 *
 * Each server runs in its own child process with one worker (the machine has 2 cores and the
 * load generator needs one). Model: test/support/serving-model.ts (vocabulary + z-score
 * transform and the trained model, composed), registered twice as `flights` versions 1 and 2.
 *
 * Run: node --import tsx bench/serving.ts [--duration 10] [--log on|off]
 */
import { fork } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { openDatabase } from '../src/metadata/database.js';
import { toTensor } from '../src/onnx/tensors.js';
import type { ModelSignature } from '../src/registry/types.js';
import { runInference } from '../src/serve/inference.js';
import { fromRecords } from '../src/serve/features.js';
import { ParquetPredictionSink } from '../src/serve/prediction-sinks.js';
import { startModelServer } from '../src/serve/server.js';
import { LocalArtifactStore } from '../src/store/local-artifact-store.js';
import { buildServingModel } from '../test/support/serving-model.js';

const SELF = fileURLToPath(import.meta.url);
const ROW = { hour: 17, weekday: 5, distance: 1846, origin: 'SFO', destination: 'ORD' };
const BODY = JSON.stringify({ instances: [ROW] });
const WHO = { actor: 'bench', reason: 'swap under load' };

interface ChildConfig {
  kind: 'hello' | 'model';
  dir?: string;
  log?: boolean;
  watchMs?: number;
}

/** Child mode: serve, tell the parent the URL, stop on message. */
async function child(config: ChildConfig): Promise<void> {
  let close: () => Promise<void>;
  let url: string;
  if (config.kind === 'hello') {
    const app = Fastify({ logger: false });
    app.get('/', async () => ({ hello: 'world' }));
    // The same JSON body parsed and answered, with no model: what HTTP + Fastify cost a POST.
    app.post('/echo', async (request) => ({ predictions: [{ probability: 0.5 }], received: (request.body as { instances: unknown[] }).instances.length }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
    close = () => app.close();
  } else {
    const dir = config.dir!;
    const db = await openDatabase({ kind: 'sqlite', path: join(dir, 'loom.db') });
    const server = await startModelServer({
      port: 0,
      models: ['flights@champion'],
      registry: db.registry,
      artifacts: new LocalArtifactStore(join(dir, 'artifacts')),
      watchIntervalMs: config.watchMs ?? 0,
      predictionLog: config.log ? new ParquetPredictionSink(join(dir, 'predictions')) : undefined,
      logger: { info() {}, warn: (m) => process.stderr.write(`${m}\n`) },
    });
    url = server.url;
    close = async () => {
      await server.close();
      await db.close();
    };
  }
  process.send!({ url });
  process.on('message', async () => {
    await close();
    process.exit(0);
  });
}

async function startChild(config: ChildConfig): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = fork(SELF, ['--child', JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    proc.once('message', (message: { url: string }) => resolve(message.url));
    proc.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.send('stop');
      }),
  };
}

function cannon(url: string, connections: number, duration: number, post: boolean): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections,
    duration,
    ...(post ? { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: BODY } : {}),
  });
}

/** Mean latency in µs of `count` sequential keep-alive requests (1 connection), after a warm-up. */
async function sequentialLatency(url: string, count: number, post: boolean): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: post ? 'POST' : 'GET', agent, headers: post ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) } : {} },
        (response) => {
          response.resume();
          response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`status ${response.statusCode}`))));
        },
      );
      request.on('error', reject);
      request.end(post ? BODY : undefined);
    });
  for (let i = 0; i < 500; i++) await once();
  const started = performance.now();
  for (let i = 0; i < count; i++) await once();
  const mean = ((performance.now() - started) * 1000) / count;
  agent.destroy();
  return mean;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, log: { type: 'string', default: 'on' } } });
  const duration = Number(values.duration);
  const log = values.log !== 'off';
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-serving-'));
  try {
    process.stderr.write('building two versions of the demo-like model...\n');
    const first = await buildServingModel(dir);
    const second = await buildServingModel(dir, { artifacts: first.artifacts, epochs: 1, every: 400 });
    const signature = JSON.parse(await readFile(join(first.servingModel.path, 'signature.json'), 'utf8')) as ModelSignature;
    const db = await openDatabase({ kind: 'sqlite', path: join(dir, 'loom.db') });
    await db.registry.ensureRegisteredModel('flights');
    const v1 = await db.registry.createModelVersion({ modelName: 'flights', source: first.servingModel.uri, status: 'READY', signature });
    const v2 = await db.registry.createModelVersion({ modelName: 'flights', source: second.servingModel.uri, status: 'READY', signature });
    await db.registry.setAlias('flights', 'champion', v1.version, WHO);

    // 2a. Direct ONNX Runtime, in-process, one row per call.
    const session = await ort.InferenceSession.create(join(first.servingModel.path, 'model.onnx'), { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const feeds = () => Object.fromEntries(signature.inputs.map((spec) => [spec.name, toTensor(spec, [ROW[spec.name as keyof typeof ROW]])]));
    /** Mean wall and CPU (this process, every thread) µs per call; CPU time is what contention on a shared machine distorts least. */
    const timeLoop = async (count: number, work: () => Promise<unknown>) => {
      for (let i = 0; i < 2000; i++) await work();
      const started = performance.now();
      const cpu = process.cpuUsage();
      for (let i = 0; i < count; i++) await work();
      const used = process.cpuUsage(cpu);
      return { wall: ((performance.now() - started) * 1000) / count, cpu: (used.user + used.system) / count };
    };
    const ortMicros = await timeLoop(20_000, () => session.run(feeds()));
    await session.release();

    // 2b. Loom's request path in-process: parse → validate → batcher → outputs → metrics → log.
    const inProcess = await startModelServer({ port: 0, models: ['flights@champion'], registry: db.registry, artifacts: first.artifacts, watchIntervalMs: 0, predictionLog: log ? new ParquetPredictionSink(join(dir, 'inproc-predictions')) : undefined });
    const ctx = { pool: inProcess.pool, metrics: inProcess.metrics, log: inProcess.log };
    const parsed = () => JSON.parse(BODY) as { instances: unknown[] };
    const pathMicros = await timeLoop(20_000, () => runInference(ctx, { name: 'flights', protocol: 'v2', parse: (compiled) => fromRecords(parsed().instances, compiled, 'instances') }));
    await inProcess.close();
    await db.close();

    // 1 and 2c. Over HTTP, each server in its own process.
    const hello = await startChild({ kind: 'hello' });
    const model = await startChild({ kind: 'model', dir, log });
    const inferUrl = `${model.url}/v2/models/flights/infer`;
    process.stderr.write(`measuring at 1 connection...\n`);
    const helloMicros = await sequentialLatency(hello.url, 5000, false);
    const echoMicros = await sequentialLatency(`${hello.url}/echo`, 5000, true);
    const modelMicros = await sequentialLatency(inferUrl, 5000, true);
    process.stderr.write(`measuring at 50 connections, ${duration} s each...\n`);
    await cannon(hello.url, 50, 2, false);
    const helloRun = await cannon(hello.url, 50, duration, false);
    await cannon(inferUrl, 50, 2, true);
    const modelRun = await cannon(inferUrl, 50, duration, true);
    const served = await (await fetch(`${model.url}/metrics`)).text();
    const batchSum = Number(/loom_serve_batch_rows_sum\{model="flights",version="\d+"\} (\d+)/.exec(served)?.[1] ?? 0);
    const batchCount = Number(/loom_serve_batch_rows_count\{model="flights",version="\d+"\} (\d+)/.exec(served)?.[1] ?? 1);
    await hello.stop();
    await model.stop();

    // 3. Swap under load.
    process.stderr.write('swap under load: 10 alias moves...\n');
    const swapping = await startChild({ kind: 'model', dir, log, watchMs: 100 });
    const swapDb = await openDatabase({ kind: 'sqlite', path: join(dir, 'loom.db') });
    const swapDuration = Math.max(duration, 12);
    const load = cannon(`${swapping.url}/v2/models/flights/infer`, 50, swapDuration, true);
    for (let move = 1; move <= 10; move++) {
      await new Promise((resolve) => setTimeout(resolve, (swapDuration * 1000) / 12));
      await swapDb.registry.setAlias('flights', 'champion', move % 2 === 1 ? v2.version : v1.version, { ...WHO, reason: `move ${move}` });
    }
    const swapRun = await load;
    const metrics = await (await fetch(`${swapping.url}/metrics`)).text();
    const swaps = Number(/loom_serve_swaps_total\{model="flights",result="ok"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    await swapping.stop();
    await swapDb.close();

    const ratio = modelRun.requests.average / helloRun.requests.average;
    const httpOverhead = modelMicros - echoMicros - ortMicros.wall;
    const rows: [string, string, string, string][] = [
      ['hello-world (bare Fastify), 50 connections', `${Math.round(helloRun.requests.average)} req/s`, `p99 ${helloRun.latency.p99} ms`, 'reference'],
      [`loom serve V2 infer, 50 connections (log ${log ? 'on' : 'off'})`, `${Math.round(modelRun.requests.average)} req/s`, `p99 ${modelRun.latency.p99} ms`, `${ratio.toFixed(2)}× hello (goal ≥ 0.8×, p99 ≤ 2 ms)`],
      [`loom serve micro-batches at 50 connections`, `${(batchSum / batchCount).toFixed(1)} rows/run on average`, '', `${batchCount} ONNX Runtime runs`],
      ['ONNX Runtime direct, in-process, 1 row', `${ortMicros.wall.toFixed(1)} µs/call wall, ${ortMicros.cpu.toFixed(1)} µs CPU`, '', 'reference'],
      ['Loom request path in-process (no HTTP)', `${pathMicros.wall.toFixed(1)} µs/request wall, ${pathMicros.cpu.toFixed(1)} µs CPU`, '', `overhead ${(pathMicros.wall - ortMicros.wall).toFixed(1)} µs wall, ${(pathMicros.cpu - ortMicros.cpu).toFixed(1)} µs CPU (goal ≤ 50 µs)`],
      ['hello-world over HTTP, 1 connection', `${helloMicros.toFixed(1)} µs/request`, '', 'reference'],
      ['bare Fastify POST of the same JSON body (no model), 1 connection', `${echoMicros.toFixed(1)} µs/request`, '', 'reference'],
      ['loom serve over HTTP, 1 connection', `${modelMicros.toFixed(1)} µs/request`, '', `overhead over POST echo + ORT: ${httpOverhead.toFixed(1)} µs`],
      ['swap under load: 10 alias moves, 50 connections', `${swapRun.requests.total} requests`, `${swapRun.non2xx + swapRun.errors} failed`, `${swaps} swaps done (goal: 0 failed)`],
    ];
    const table = ['| measurement | result | latency / failures | vs goal |', '|---|---|---|---|', ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
    process.stdout.write(`${table}\n`);
    const resultsPath = join(fileURLToPath(new URL('.', import.meta.url)), 'results', 'serving.md');
    await writeFile(
      resultsPath,
      `# Online serving (issue 6)\n\n${table}\n\nRun: \`node --import tsx bench/serving.ts --duration ${duration} --log ${log ? 'on' : 'off'}\` (${new Date().toISOString().slice(0, 10)}).\n\n` +
        'Machine: 2 cores shared with other work (noisy); each server is one process with one worker, and autocannon runs in the benchmark process, so the load generator takes one of the two cores. ' +
        'Requests are single-flight V2 `instances` bodies (one row); the model is the demo-like composed graph (vocabulary + z-score transform and the trained model).\n',
    );
    process.stderr.write(`written to ${resultsPath}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) await child(JSON.parse(process.argv[childIndex + 1]!) as ChildConfig);
else await main();
