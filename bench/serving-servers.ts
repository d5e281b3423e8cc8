/**
 * The servers bench/serving.ts measures, each run in a child process of its own: the bare
 * Fastify references (a GET hello-world, a POST echo of the body, and a POST that builds
 * the tensors and calls ONNX Runtime itself, with no validation, batching or metrics) and
 * `loom serve` (one process, or `workers` cluster workers). A child tells its parent its
 * URL, answers `cpu` with its CPU µs so far, and stops on `stop`. `startChild` starts one
 * (this file is the child's entry), pinned to cores, and `loadRun` loads it with autocannon.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { openTestPlatform } from '../test/support/databases.js';
import { toTensor } from '../src/onnx/tensors.js';
import type { ModelSignature } from '../src/registry/types.js';
import { runPrimary, serveInWorker } from '../src/http/cluster.js';
import { ParquetPredictionSink } from '../src/serve/prediction-sinks.js';
import { startModelServer } from '../src/serve/server.js';
import { LocalArtifactStore } from '../src/store/local-artifact-store.js';

const SELF = fileURLToPath(import.meta.url);

export type ChildConfig =
  | { kind: 'hello'; modelPath: string; signature: ModelSignature }
  | { kind: 'model'; dir: string; log: boolean; watchMs?: number; workers: number };

/** Child mode: serve, tell the parent the URL, answer `cpu`, stop on `stop`. */
export async function child(config: ChildConfig): Promise<void> {
  if (config.kind === 'model' && (config.workers > 1 || cluster.isWorker)) return clustered(config);
  let close: () => Promise<void>;
  let url: string;
  if (config.kind === 'hello') {
    const session = await ort.InferenceSession.create(config.modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const app = Fastify({ logger: false });
    app.get('/', async () => ({ hello: 'world' }));
    // The same JSON body parsed and answered, with no model: what HTTP + Fastify cost a POST.
    app.post('/echo', async (request) => ({ predictions: [{ probability: 0.5 }], received: (request.body as { instances: unknown[] }).instances.length }));
    // The least a server doing Loom's work can do: body → tensors → ORT → answer.
    const { inputs } = config.signature;
    app.post('/ort', async (request) => {
      const rows = (request.body as { instances: Record<string, unknown>[] }).instances;
      const feeds: Record<string, ort.Tensor> = {};
      for (const spec of inputs) feeds[spec.name] = toTensor(spec, rows.map((row) => row[spec.name]));
      const probability = (await session.run(feeds)).probability!.data as Float32Array;
      return { predictions: Array.from(probability, (p) => ({ probability: p })), model_name: 'flights', model_version: '1' };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    close = async () => {
      await app.close();
      await session.release();
    };
  } else {
    const server = await startLoom(config, 0);
    url = server.url;
    close = server.close;
  }
  process.send!({ url });
  process.on('message', async (message) => {
    if (message === 'cpu') {
      const used = process.cpuUsage();
      process.send!({ cpu: used.user + used.system });
      return;
    }
    await close();
    process.exit(0);
  });
}

async function startLoom(config: Extract<ChildConfig, { kind: 'model' }>, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const db = await openTestPlatform(config.dir);
  const server = await startModelServer({
    port,
    models: ['flights@champion'],
    registry: db.registry,
    artifacts: new LocalArtifactStore(join(config.dir, 'artifacts')),
    watchIntervalMs: config.watchMs ?? 0,
    predictionLog: config.log ? new ParquetPredictionSink(join(config.dir, `predictions-${process.pid}`)) : undefined,
    logger: { info() {}, warn: (m) => process.stderr.write(`${m}\n`) },
  });
  return {
    url: server.url,
    close: async () => {
      await server.close();
      await db.close();
    },
  };
}

/** `loom serve --workers N` as the CLI runs it: a primary forking N workers sharing one port. */
async function clustered(config: Extract<ChildConfig, { kind: 'model' }>): Promise<void> {
  if (cluster.isWorker) {
    const port = Number(process.env.LOOM_BENCH_PORT);
    await serveInWorker(() => startLoom(config, port));
    process.disconnect?.();
    return;
  }
  // Workers share a fixed free port: find one, then hand it to every worker.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  process.env.LOOM_BENCH_PORT = String(port);
  process.on('message', (message) => {
    if (message === 'cpu') process.send!({ cpu: Number.NaN });
    else process.kill(process.pid, 'SIGTERM');
  });
  await runPrimary({ workers: config.workers, onListening: (url) => process.send!({ url }) });
  process.exit(0);
}

/** Mean and median µs of `count` sequential keep-alive requests (1 connection), after a warm-up; `body` makes it a POST. */
export async function sequentialLatency(url: string, count: number, body: string | undefined): Promise<{ mean: number; median: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const headers = body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {};
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const request = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: body ? 'POST' : 'GET', agent, headers }, (response) => {
        response.resume();
        response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`${url}: status ${response.statusCode}`))));
      });
      request.on('error', reject);
      request.end(body);
    });
  for (let i = 0; i < 500; i++) await once();
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    await once();
    times[i] = Number(process.hrtime.bigint() - started) / 1000;
  }
  agent.destroy();
  const sorted = times.slice().sort();
  return { mean: times.reduce((sum, t) => sum + t, 0) / count, median: sorted[count >> 1]! };
}

export interface Server {
  url: string;
  /** CPU µs this server's process has used so far (not its cluster workers'). */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts a server child pinned to `cores` (taskset), and waits for its URL. */
export async function startChild(config: ChildConfig, cores: string): Promise<Server> {
  const proc: ChildProcess = spawn('taskset', ['-c', cores, process.execPath, '--import', 'tsx', SELF, '--child', JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    proc.once('message', (message: { url: string }) => resolve(message.url));
    proc.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
  const ask = <T>(type: string) =>
    new Promise<T>((resolve) => {
      proc.once('message', (message: T) => resolve(message));
      proc.send(type);
    });
  return {
    url,
    cpu: async () => (await ask<{ cpu: number }>('cpu')).cpu,
    stop: () => new Promise((resolve) => (proc.once('exit', () => resolve()), proc.send('stop'))),
  };
}

/** An autocannon run; with `body`, a JSON POST. */
export function cannon(url: string, connections: number, duration: number, body?: string): Promise<autocannon.Result> {
  return autocannon({ url, connections, duration, ...(body !== undefined ? { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body } : {}) });
}

export interface Load {
  rps: number;
  p99: number;
  cpuPerRequest: number;
  failed: number;
}

/**
 * One run against `server` (50 connections unless told), with its CPU µs per request; with
 * `settleMs`, the CPU is read that long after the load stops, so work the server defers
 * (the prediction log's file conversion) is counted too.
 */
export async function loadRun(server: Server, path: string, body: string | undefined, duration: number, options: { connections?: number; settleMs?: number } = {}): Promise<Load> {
  const before = await server.cpu();
  const run = await cannon(`${server.url}${path}`, options.connections ?? 50, duration, body);
  if (options.settleMs) await new Promise((resolve) => setTimeout(resolve, options.settleMs));
  const cpu = (await server.cpu()) - before;
  return { rps: run.requests.average, p99: run.latency.p99, cpuPerRequest: cpu / Math.max(1, run.requests.total), failed: run.non2xx + run.errors };
}

// Run as a server child by startChild (and re-run as a cluster worker by `cluster.fork`).
const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0 && process.argv[1] === SELF) await child(JSON.parse(process.argv[childIndex + 1]!) as ChildConfig);
