/**
 * The online model server against references measured in the same run (issue 6 goals):
 *  1. Throughput at 50 concurrent connections (autocannon): `loom serve`'s V2 infer of the
 *     demo-like model (one flight per request) vs a bare Fastify hello-world. Goal: ≥ 0.8×,
 *     p99 ≤ 2 ms. Also shown: a bare Fastify POST that parses the same body and calls ONNX
 *     Runtime itself (the least any server doing this work can cost), and each server's CPU
 *     time per request (what sharing the machine distorts least).
 *  2. Overhead per request at 1 connection over calling ONNX Runtime directly. Goal ≤ 50 µs.
 *     In-process (Loom's whole request path without HTTP) and over HTTP (Loom vs the bare
 *     POST + ORT server, medians of sequential keep-alive requests).
 *  3. Hot swap under load: 10 alias moves during a 50-connection run; failed requests counted.
 *
 * Fairness: every server under test runs in its own child process pinned to core 0
 * (`taskset`), the load generator (this process) to core 1; servers are measured in turns,
 * `--rounds` times each, and the rounds averaged. `loom --workers 2` runs on both cores
 * (sharing core 1 with the load generator), for information.
 *
 * Run: node --import tsx bench/serving.ts [--duration 10] [--rounds 2] [--log on|off]
 */
import { execFileSync } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { openTestPlatform } from '../test/support/databases.js';
import { toTensor } from '../src/onnx/tensors.js';
import type { ModelSignature } from '../src/registry/types.js';
import { runInference } from '../src/serve/inference.js';
import { fromRecords } from '../src/serve/features.js';
import { ParquetPredictionSink } from '../src/serve/prediction-sinks.js';
import { startModelServer } from '../src/serve/server.js';
import { buildServingModel } from '../test/support/serving-model.js';
import { cannon, loadRun, sequentialLatency, startChild, type Load } from './serving-servers.js';

const ROW = { hour: 17, weekday: 5, distance: 1846, origin: 'SFO', destination: 'ORD' };
const BODY = JSON.stringify({ instances: [ROW] });
const WHO = { actor: 'bench', reason: 'swap under load' };

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' }, log: { type: 'string', default: 'on' } } });
  const duration = Number(values.duration);
  const rounds = Number(values.rounds);
  const log = values.log !== 'off';
  // The load generator and the in-process measurements on core 1; servers on core 0.
  execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-serving-'));
  try {
    process.stderr.write('building two versions of the demo-like model...\n');
    const first = await buildServingModel(dir);
    const second = await buildServingModel(dir, { artifacts: first.artifacts, epochs: 1, every: 400 });
    const signature = JSON.parse(await readFile(join(first.servingModel.path, 'signature.json'), 'utf8')) as ModelSignature;
    const db = await openTestPlatform(dir);
    await db.registry.ensureRegisteredModel('flights');
    const v1 = await db.registry.createModelVersion({ modelName: 'flights', source: first.servingModel.uri, status: 'READY', signature });
    const v2 = await db.registry.createModelVersion({ modelName: 'flights', source: second.servingModel.uri, status: 'READY', signature });
    await db.registry.setAlias('flights', 'champion', v1.version, WHO);

    // 2a. Direct ONNX Runtime, in-process, one row per call.
    const session = await ort.InferenceSession.create(join(first.servingModel.path, 'model.onnx'), { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const feeds = () => Object.fromEntries(signature.inputs.map((spec) => [spec.name, toTensor(spec, [ROW[spec.name as keyof typeof ROW]])]));
    /** Mean wall and CPU (this process, every thread) µs per call. */
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
    // The request's principal, as an open loopback server gives it (authorization runs on every call).
    const principal = { subject: 'bench', role: 'viewer' as const, grants: [], source: 'open' as const };
    const pathMicros = await timeLoop(20_000, () => runInference(ctx, { principal, name: 'flights', protocol: 'v2', parse: (compiled) => fromRecords(parsed().instances, compiled, 'instances') }));
    await inProcess.close();
    await db.close();

    // 1 and 2c. Over HTTP: each server its own process on core 0, measured in turns.
    const modelPath = join(first.servingModel.path, 'model.onnx');
    const hello = await startChild({ kind: 'hello', modelPath, signature }, '0');
    const loom1 = await startChild({ kind: 'model', dir, log, workers: 1 }, '0');
    const loom2 = await startChild({ kind: 'model', dir, log, workers: 2 }, '0,1');
    const infer = '/v2/models/flights/infer';
    process.stderr.write('measuring at 1 connection...\n');
    const seq: Record<'hello' | 'echo' | 'ort' | 'loom', { mean: number; median: number }[]> = { hello: [], echo: [], ort: [], loom: [] };
    for (let round = 0; round < rounds; round++) {
      seq.hello.push(await sequentialLatency(`${hello.url}/`, 5000, undefined));
      seq.echo.push(await sequentialLatency(`${hello.url}/echo`, 5000, BODY));
      seq.ort.push(await sequentialLatency(`${hello.url}/ort`, 5000, BODY));
      seq.loom.push(await sequentialLatency(`${loom1.url}${infer}`, 5000, BODY));
    }
    process.stderr.write(`measuring at 50 connections, ${rounds} × ${duration} s each...\n`);
    const targets = { hello: [hello, '/', false], echo: [hello, '/echo', true], ort: [hello, '/ort', true], loom1: [loom1, infer, true], loom2: [loom2, infer, true] } as const;
    const loads: Record<keyof typeof targets, Load[]> = { hello: [], echo: [], ort: [], loom1: [], loom2: [] };
    for (const [server, path, post] of Object.values(targets)) await cannon(`${server.url}${path}`, 50, 2, post ? BODY : undefined);
    for (let round = 0; round < rounds; round++) {
      for (const [name, [server, path, post]] of Object.entries(targets)) loads[name as keyof typeof targets].push(await loadRun(server, path, post ? BODY : undefined, duration));
    }
    const served = await (await fetch(`${loom1.url}/metrics`)).text();
    const batchSum = Number(/loom_serve_batch_rows_sum\{model="flights",version="\d+"\} (\d+)/.exec(served)?.[1] ?? 0);
    const batchCount = Number(/loom_serve_batch_rows_count\{model="flights",version="\d+"\} (\d+)/.exec(served)?.[1] ?? 1);
    for (const server of [hello, loom1, loom2]) await server.stop();

    // 3. Swap under load.
    process.stderr.write('swap under load: 10 alias moves...\n');
    const swapping = await startChild({ kind: 'model', dir, log, watchMs: 100, workers: 1 }, '0');
    const swapDb = await openTestPlatform(dir);
    const swapDuration = Math.max(duration, 12);
    const load = cannon(`${swapping.url}${infer}`, 50, swapDuration, BODY);
    for (let move = 1; move <= 10; move++) {
      await new Promise((resolve) => setTimeout(resolve, (swapDuration * 1000) / 12));
      await swapDb.registry.setAlias('flights', 'champion', move % 2 === 1 ? v2.version : v1.version, { ...WHO, reason: `move ${move}` });
    }
    const swapRun = await load;
    const metrics = await (await fetch(`${swapping.url}/metrics`)).text();
    const swaps = Number(/loom_serve_swaps_total\{model="flights",result="ok"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    await swapping.stop();
    await swapDb.close();

    const avg = (name: keyof typeof loads) => ({ rps: mean(loads[name].map((l) => l.rps)), p99: mean(loads[name].map((l) => l.p99)), cpu: mean(loads[name].map((l) => l.cpuPerRequest)), failed: loads[name].reduce((sum, l) => sum + l.failed, 0) });
    const [h, e, o, l1, l2] = [avg('hello'), avg('echo'), avg('ort'), avg('loom1'), avg('loom2')];
    const seqOf = (name: keyof typeof seq) => ({ mean: mean(seq[name].map((s) => s.mean)), median: mean(seq[name].map((s) => s.median)) });
    const [sh, se, so, sl] = [seqOf('hello'), seqOf('echo'), seqOf('ort'), seqOf('loom')];
    const cpuCell = (load: { cpu: number }) => `${load.cpu.toFixed(1)} µs server CPU/request`;
    const rows: string[][] = [
      ['hello-world (bare Fastify GET), 50 connections, core 0', `${Math.round(h.rps)} req/s`, `p99 ${h.p99.toFixed(1)} ms`, cpuCell(h), 'reference'],
      ['bare Fastify POST of the same body (no model), 50 connections, core 0', `${Math.round(e.rps)} req/s`, `p99 ${e.p99.toFixed(1)} ms`, cpuCell(e), `${(e.rps / h.rps).toFixed(2)}× hello (what a POST body costs)`],
      ['bare Fastify POST + ONNX Runtime called directly, 50 connections, core 0', `${Math.round(o.rps)} req/s`, `p99 ${o.p99.toFixed(1)} ms`, cpuCell(o), `${(o.rps / h.rps).toFixed(2)}× hello (no batching, no validation)`],
      [`loom serve --workers 1, V2 infer, 50 connections, core 0 (log ${log ? 'on' : 'off'})`, `${Math.round(l1.rps)} req/s`, `p99 ${l1.p99.toFixed(1)} ms`, cpuCell(l1), `**${(l1.rps / h.rps).toFixed(2)}× hello** (goal ≥ 0.8×, p99 ≤ 2 ms); ${(l1.rps / o.rps).toFixed(2)}× POST + ORT; by server CPU per request ${(h.cpu / l1.cpu).toFixed(2)}× hello`],
      [`loom serve --workers 2, 50 connections, cores 0-1 (shares core 1 with the load generator)`, `${Math.round(l2.rps)} req/s`, `p99 ${l2.p99.toFixed(1)} ms`, '', `${(l2.rps / h.rps).toFixed(2)}× hello (1 process on 1 core)`],
      ['loom micro-batches at 50 connections (workers 1)', `${(batchSum / batchCount).toFixed(1)} rows/run`, '', '', `${batchCount} ONNX Runtime runs`],
      ['ONNX Runtime direct, in-process, 1 row', `${ortMicros.wall.toFixed(1)} µs/call wall`, '', `${ortMicros.cpu.toFixed(1)} µs CPU`, 'reference'],
      ['Loom request path in-process (no HTTP)', `${pathMicros.wall.toFixed(1)} µs/request wall`, '', `${pathMicros.cpu.toFixed(1)} µs CPU`, `**overhead ${(pathMicros.wall - ortMicros.wall).toFixed(1)} µs wall, ${(pathMicros.cpu - ortMicros.cpu).toFixed(1)} µs CPU** (goal ≤ 50 µs)`],
      ['hello-world GET over HTTP, 1 connection', `median ${sh.median.toFixed(0)} µs, mean ${sh.mean.toFixed(0)} µs`, '', '', 'reference'],
      ['bare Fastify POST of the same body (no model), 1 connection', `median ${se.median.toFixed(0)} µs, mean ${se.mean.toFixed(0)} µs`, '', '', 'reference'],
      ['bare Fastify POST + ONNX Runtime directly, 1 connection', `median ${so.median.toFixed(0)} µs, mean ${so.mean.toFixed(0)} µs`, '', '', 'reference'],
      ['loom serve over HTTP, 1 connection', `median ${sl.median.toFixed(0)} µs, mean ${sl.mean.toFixed(0)} µs`, '', '', `**overhead over POST + ORT: median ${(sl.median - so.median).toFixed(0)} µs**, mean ${(sl.mean - so.mean).toFixed(0)} µs; over POST echo + in-process ORT: ${(sl.median - se.median - ortMicros.wall).toFixed(0)} µs (median)`],
      ['swap under load: 10 alias moves, 50 connections', `${swapRun.requests.total} requests`, `${swapRun.non2xx + swapRun.errors} failed`, '', `${swaps} swaps done (goal: 0 failed)`],
    ];
    const perRound = Object.entries(loads).map(([name, runs]) => `${name}: ${runs.map((run) => `${Math.round(run.rps)} req/s p99 ${run.p99} ms`).join(', ')}`).join('; ');
    const table = [
      '| measurement | result | latency / failures | server CPU | vs goal |',
      '|---|---|---|---|---|',
      ...rows.map((row) => `| ${row.join(' | ')} |`),
      '',
      `Each round at 50 connections (servers take turns within a round): ${perRound}.`,
    ].join('\n');
    process.stdout.write(`${table}\n`);
    const resultsPath = join(fileURLToPath(new URL('.', import.meta.url)), 'results', 'serving.md');
    const command = `node --import tsx bench/serving.ts --duration ${duration} --rounds ${rounds} --log ${log ? 'on' : 'off'}`;
    await writeFile(
      resultsPath,
      `# Online serving (issue 6)\n\n${table}\n\nRun: \`${command}\` (${new Date().toISOString()}).\n\n` +
        'Machine: 2 cores shared with other work (noisy). Each server is its own process pinned to core 0 with `taskset`; autocannon and the 1-connection client run in the benchmark process pinned to core 1. ' +
        `Servers are measured in turns, ${rounds} rounds of ${duration} s each at 50 connections, and the rounds averaged. Requests are single-flight V2 \`instances\` bodies (one row); ` +
        'the model is the demo-like composed graph (vocabulary + z-score transform and the trained model).\n',
    );
    process.stderr.write(`written to ${resultsPath}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
