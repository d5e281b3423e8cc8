/**
 * Memory under a long mixed load, and the platform API under 1,000 connections (issue 12).
 *
 * 1. Soak: the real `loom serve` (one process, prediction log on) and `loom server` get
 *    100,000 requests in all (`--requests`), pipelined 25 to a connection on 8 connections
 *    per server: valid predictions in the three protocols, metadata, `/metrics`, registry
 *    and tracking reads and writes, and hostile requests shaped like test/security's fuzz
 *    corpus (prototype names, malformed encodings, deep nesting, 20,000-row bodies, wrong
 *    content types). Each process's RSS is sampled every 250 ms; reported: start (after a
 *    warm-up), peak, end (after `--settle` seconds idle) and end/start (goal ≤ 1.2).
 * 2. 1,000 connections for `--seconds` against the platform API's registry search (autocannon,
 *    10 s timeout): the share of requests beyond 10 s (goal 0), p99 and max latency, and the
 *    listener's accept queue. Against a fresh `loom server` per setting: load shedding off
 *    and on (`--shedding off,on`, its defaults when on) times the worker counts (`--workers
 *    1,2`), interleaved `--rounds` times; one row per run, then the medians per setting.
 *
 * Run: node --import tsx bench/soak.ts [--requests 100000] [--settle 15] [--seconds 20] [--only soak|crowd]
 *      [--workers 1,2] [--shedding off,on] [--rounds 3]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { LOOM_BIN } from '../test/support/cli.js';
import { makeTempDir } from '../test/support/flights.js';
import { buildServingRegistry } from '../test/support/serving-registry.js';
import { deeplyNested, rawExchange, rawRequest } from '../test/security/support.js';
import { mulberry32 } from '../src/core/random.js';

const execFileAsync = promisify(execFile);
const PIPELINE = 25;
const CONNECTIONS = 8;

interface Running {
  url: string;
  child: ChildProcess;
  samples: { at: number; rss: number }[];
}

async function startLoom(args: string[], home: string, cwd = home): Promise<Running> {
  const child = spawn(process.execPath, [LOOM_BIN, ...args], { cwd, env: { ...process.env, LOOM_HOME: home, LOOM_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  // Generous: on a machine shared with running test suites a start (tsx, then each worker) has taken over a minute.
  const deadline = Date.now() + 240_000;
  for (;;) {
    const match = /(?:serving at|Loom API at) (http:\/\/[^\s)]+)/.exec(stderr);
    if (match) return { url: match[1]!, child, samples: [] };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`loom ${args.join(' ')} did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

/** The mix for each server: [weight, request] pairs, requests as raw HTTP/1.1 bytes. */
function mixes(row: Record<string, unknown>) {
  const json = (method: string, path: string, body: unknown) => rawRequest(method, path, { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const get = (path: string) => rawRequest('GET', path);
  const model: [number, () => string][] = [
    [30, () => json('POST', '/v2/models/flights/infer', { instances: [row, row] })],
    [10, () => json('POST', '/v1/models/flights:predict', { instances: [row] })],
    [10, () => json('POST', '/invocations', { dataframe_records: [row] })],
    [8, () => get('/v2/models/flights')],
    [4, () => get('/metrics')],
    [3, () => get('/v1/models/flights/metadata')],
    // Hostile, as test/security/fuzz.test.ts sends them.
    [3, () => get('/ui/ort/constructor')],
    [3, () => get('/v1/models/%25')],
    [3, () => get('/v2/models/__proto__/versions/toString')],
    [2, () => json('POST', '/v2/models/flights/infer', deeplyNested(20_000))],
    [2, () => json('POST', '/v2/models/flights/infer', `{"inputs":[{"name":"hour","shape":[1],"datatype":"INT64","data":${deeplyNested(5000)}}]}`)],
    [2, () => json('POST', '/v2/models/flights/infer', '{"a":')],
    [2, () => rawRequest('POST', '/invocations', { headers: { 'content-type': 'application/xml' }, body: '<x/>' })],
    [1, () => json('POST', '/v2/models/flights/infer', { instances: Array.from({ length: 20_000 }, () => row) })],
    [2, () => json('POST', '/v2/models/flights/infer', { instances: [{ ...row, hour: 'constructor' }, { __proto__: 1 }] })],
  ];
  let run = 0;
  const platform: [number, () => string][] = [
    [25, () => get('/api/2.0/mlflow/registered-models/search')],
    [15, () => get('/api/2.0/mlflow/registered-models/get?name=flights')],
    [10, () => get('/api/2.0/mlflow/experiments/search?max_results=10')],
    [10, () => json('POST', '/api/2.0/mlflow/experiments/create', { name: `soak-${process.pid}-${run++}` })],
    [5, () => get('/health')],
    [5, () => get('/metrics')],
    [4, () => get('/api/2.0/mlflow/registered-models/get?name=constructor')],
    [4, () => get('/api/2.0/mlflow/runs/get?run_id=%E0%A4%A')],
    [3, () => json('POST', '/api/2.0/mlflow/runs/log-batch', deeplyNested(20_000))],
    [3, () => json('POST', '/api/2.0/mlflow/registered-models/create', { name: 'x'.repeat(100_000) })],
    [3, () => json('POST', '/api/2.0/mlflow/experiments/search', { filter: "name = 'a' OR 1=1; DROP TABLE runs; --" })],
    [3, () => rawRequest('POST', '/api/2.0/mlflow/experiments/create', { headers: { 'content-type': 'text/plain' }, body: 'x' })],
  ];
  return { model, platform };
}


function picker(mix: [number, () => string][], next: () => number): () => string {
  const total = mix.reduce((sum, [weight]) => sum + weight, 0);
  return () => {
    let at = next() * total;
    for (const [weight, make] of mix) if ((at -= weight) < 0) return make();
    return mix[0]![1]();
  };
}

/**
 * Sends `count` requests from `make`, pipelined, on `CONNECTIONS` connections; statuses by
 * class. A request after which the server closes the connection (a refused body) counts as
 * `closed`; the requests pipelined behind it were never read and are sent again.
 */
async function load(url: string, count: number, make: () => string): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  const add = (key: string) => (statuses[key] = (statuses[key] ?? 0) + 1);
  let left = count;
  const worker = async () => {
    while (left > 0) {
      const n = Math.min(PIPELINE, left);
      left -= n;
      const batch = Array.from({ length: n }, make);
      const { responses } = await rawExchange(url, batch.join(''), n, 120_000).catch(() => ({ responses: [] }));
      for (const response of responses) add(`${String(response.status)[0]}xx`);
      if (responses.length < n) {
        add('closed');
        left += n - responses.length - 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return statuses;
}

/** One 1,000-connection run: what the table rows and the medians are made of. */
interface CrowdRun {
  attempted: number;
  timeouts: number;
  refused: number;
  otherNon2xx: number;
  p50: number;
  p99: number;
  max: number;
  /** Connections waiting to be accepted, sampled every 500 ms: mean and largest. */
  queueMean: number;
  queueMax: number;
  loadBefore: number;
  loadAfter: number;
}

/**
 * 1,000 connections on the platform API's registry search for `seconds` (autocannon, 10 s
 * timeout). A request refused by load shedding (503) counts as answered, as the client
 * learns at once to retry; the share beyond 10 s is the hang the issue counts.
 */
async function crowd(url: string, seconds: number): Promise<CrowdRun> {
  const loadBefore = loadavg()[0]!;
  // The listening socket's accept queue (Recv-Q in `ss -lnt`): connections the kernel has
  // completed that no process has accepted yet. Under --workers N they all share this one queue.
  const queue: number[] = [];
  const sampler = setInterval(() => void acceptQueue(Number(new URL(url).port)).then((n) => queue.push(n), () => {}), 500);
  let result: autocannon.Result;
  try {
    result = await autocannon({ url: `${url}/api/2.0/mlflow/registered-models/search`, connections: 1000, duration: seconds, timeout: 10 });
  } finally {
    clearInterval(sampler);
  }
  const refused = (result.statusCodeStats as Record<string, { count: number }> | undefined)?.['503']?.count ?? 0;
  return {
    attempted: result.requests.total + result.timeouts,
    timeouts: result.timeouts,
    refused,
    otherNon2xx: result.non2xx - refused,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    queueMean: queue.length ? queue.reduce((sum, n) => sum + n, 0) / queue.length : 0,
    queueMax: Math.max(0, ...queue),
    loadBefore,
    loadAfter: loadavg()[0]!,
  };
}

/** Recv-Q of the TCP listener on `port`: its accept queue's length now (Linux `ss`). */
async function acceptQueue(port: number): Promise<number> {
  // Asynchronous, so sampling never stalls the load generator in this process.
  const { stdout } = await execFileAsync('ss', ['-Hltn', `sport = :${port}`]);
  return stdout.split('\n').reduce((sum, line) => sum + (Number(line.trim().split(/\s+/)[1]) || 0), 0);
}

const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;

function crowdRow(label: string, run: CrowdRun): string {
  return `| ${label} | ${run.attempted.toLocaleString('en')} | ${run.timeouts} (**${pct(run.timeouts, run.attempted)}**) | ${run.refused} (${pct(run.refused, run.attempted)}) | ${run.otherNon2xx} | ${run.p50} | ${run.p99} | ${run.max} | ${run.queueMean.toFixed(0)} / ${run.queueMax} | ${run.loadBefore.toFixed(1)} / ${run.loadAfter.toFixed(1)} |`;
}

const CROWD_HEADER = ['| loom server | requests | beyond 10 s | 503 (refused, Retry-After) | other non-2xx | p50 ms | p99 ms | max ms | accept queue mean / max | load average before / after |', '|---|---|---|---|---|---|---|---|---|---|'];
const MEDIAN_HEADER = ['| loom server | runs | requests | beyond 10 s | share beyond 10 s | p99 ms | max ms | accept queue mean |', '|---|---|---|---|---|---|---|---|'];

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Resolves once `workers` processes have answered: each generated request id starts with a
 * prefix drawn once per process, and every request comes on a connection of its own.
 */
async function everyWorkerAnswers(url: string, workers: number): Promise<void> {
  const seen = new Set<string>();
  const deadline = Date.now() + 240_000;
  while (seen.size < workers) {
    if (Date.now() > deadline) throw new Error(`only ${seen.size} of ${workers} workers answered`);
    const id = await new Promise<string>((resolve) => {
      const req = request(`${url}/health`, { agent: false }, (res) => {
        res.resume();
        resolve(String(res.headers['x-request-id']).split('-')[0]!);
      });
      req.on('error', () => resolve(''));
      req.end();
    });
    if (id) seen.add(id);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A `loom server` setting the crowd phase compares: load shedding on or off, and how many workers. */
interface CrowdSetting {
  label: string;
  config: object;
  workers: number;
}

function crowdSettings(shedding: string[], workers: number[]): CrowdSetting[] {
  const modes: Record<string, [string, object]> = {
    off: ['load shedding off', { http: { loadShedding: { server: false } } }],
    on: ['load shedding on (defaults)', {}],
  };
  return shedding.flatMap((mode) => {
    if (!modes[mode]) throw new Error('--shedding takes off, on or off,on');
    const [label, config] = modes[mode]!;
    return workers.map((count) => ({ label: `\`--workers ${count}\`, ${label}`, config, workers: count }));
  });
}

/**
 * The 1,000-connection case against a fresh `loom server` per setting and round (the
 * settings interleaved within each round, so a change in the machine's load hits all of
 * them alike), each with its own `loom.config.json`: one row per run, then the medians.
 */
async function crowdPhase(home: string, seconds: number, settings: CrowdSetting[], rounds: number): Promise<string[]> {
  const rows: string[] = [];
  const runs = new Map<CrowdSetting, CrowdRun[]>(settings.map((setting) => [setting, []]));
  for (let round = 0; round < rounds; round++) {
    for (const setting of settings) {
      const cwd = join(home, `crowd-${round}-${setting.workers}-${settings.indexOf(setting)}`);
      await mkdir(cwd, { recursive: true });
      await writeFile(join(cwd, 'loom.config.json'), JSON.stringify(setting.config));
      const api = await startLoom(['server', '--port', '0', '--workers', String(setting.workers)], home, cwd);
      try {
        // The server says it listens when its first worker does; the crowd waits for all of them.
        await everyWorkerAnswers(api.url, setting.workers);
        // A few requests first, so compilation and the first database reads are not in the figures.
        await load(api.url, 200 * setting.workers, () => rawRequest('GET', '/api/2.0/mlflow/registered-models/search'));
        const run = await crowd(api.url, seconds);
        runs.get(setting)!.push(run);
        rows.push(crowdRow(`${setting.label}, round ${round + 1}`, run));
        process.stderr.write(`${rows.at(-1)}\n`);
      } finally {
        api.child.kill('SIGTERM');
        if (api.child.exitCode === null) await new Promise((resolve) => api.child.once('exit', resolve));
      }
    }
  }
  const medians = settings.map((setting) => {
    const of = (pick: (run: CrowdRun) => number) => median(runs.get(setting)!.map(pick));
    const share = of((run) => run.timeouts / Math.max(1, run.attempted));
    return `| ${setting.label} | ${runs.get(setting)!.length} | ${Math.round(of((run) => run.attempted)).toLocaleString('en')} | ${of((run) => run.timeouts)} | **${(100 * share).toFixed(1)}%** | ${of((run) => run.p99)} | ${of((run) => run.max)} | ${of((run) => run.queueMean).toFixed(0)} |`;
  });
  return [...CROWD_HEADER, ...rows, '', 'Medians:', '', ...MEDIAN_HEADER, ...medians];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '100000' },
      settle: { type: 'string', default: '15' },
      seconds: { type: 'string', default: '20' },
      only: { type: 'string' },
      workers: { type: 'string', default: '1' },
      shedding: { type: 'string', default: 'off,on' },
      rounds: { type: 'string', default: '1' },
    },
  });
  if (values.only !== undefined && values.only !== 'soak' && values.only !== 'crowd') throw new Error('--only takes soak or crowd');
  const total = Number(values.requests);
  let removeHome: () => Promise<void> = async () => {};
  const home = await makeTempDir((fn) => {
    removeHome = fn;
  });
  const servers: Running[] = [];
  try {
    const reg = await buildServingRegistry(home);
    const row = reg.rows[0]!;
    await reg.close();
    if (values.only !== 'crowd') {
      const serve = await startLoom(['serve', 'flights', '--workers', '1', '--port', '0', '--watch-interval', '1000'], home);
      servers.push(serve);
      const api = await startLoom(['server', '--port', '0'], home);
      servers.push(api);
      const { model, platform } = mixes(row);
      const next = mulberry32(7);
      // Warm-up: every route once (code paths compiled, sessions loaded), then the starting RSS.
      await load(serve.url, 500, picker(model, next));
      await load(api.url, 500, picker(platform, next));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const start = { serve: await rssOf(serve.child.pid!), api: await rssOf(api.child.pid!) };
      const sampler = setInterval(() => {
        for (const server of servers) void rssOf(server.child.pid!).then((rss) => server.samples.push({ at: Date.now(), rss }), () => {});
      }, 250);
      const began = Date.now();
      const [modelStatuses, platformStatuses] = await Promise.all([load(serve.url, Math.round(total * 0.6), picker(model, next)), load(api.url, Math.round(total * 0.4), picker(platform, next))]);
      const loadSeconds = (Date.now() - began) / 1000;
      await new Promise((resolve) => setTimeout(resolve, Number(values.settle) * 1000));
      clearInterval(sampler);
      const end = { serve: await rssOf(serve.child.pid!), api: await rssOf(api.child.pid!) };
      const peak = (server: Running) => Math.max(...server.samples.map((sample) => sample.rss));
      const alive = servers.every((server) => server.child.exitCode === null);
      for (const server of servers.splice(0)) server.child.kill('SIGTERM');
      const lines = [
        `Soak: ${total.toLocaleString('en')} requests (${Math.round(total * 0.6).toLocaleString('en')} to \`loom serve\`, ${Math.round(total * 0.4).toLocaleString('en')} to \`loom server\`) in ${loadSeconds.toFixed(0)} s, then ${values.settle} s idle; processes alive after: ${alive}`,
        `  loom serve answers: ${JSON.stringify(modelStatuses)}; loom server answers: ${JSON.stringify(platformStatuses)}`,
        '',
        '| process | start RSS | peak RSS | end RSS | end / start (goal ≤ 1.2) |',
        '|---|---|---|---|---|',
        `| loom serve (1 process, prediction log on) | ${mib(start.serve)} | ${mib(peak(serve))} | ${mib(end.serve)} | **${(end.serve / start.serve).toFixed(2)}** |`,
        `| loom server | ${mib(start.api)} | ${mib(peak(api))} | ${mib(end.api)} | **${(end.api / start.api).toFixed(2)}** |`,
        '',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    // 2. 1,000 connections on the platform API, with and without load shedding.
    if (values.only !== 'soak') {
      const settings = crowdSettings(values.shedding.split(','), values.workers.split(',').map(Number));
      const table = await crowdPhase(home, Number(values.seconds), settings, Number(values.rounds));
      process.stdout.write(`1,000 connections, ${values.seconds} s each, GET registered-models/search:\n\n${table.join('\n')}\n`);
    }
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all(servers.map((server) => (server.child.exitCode === null ? new Promise((resolve) => server.child.once('exit', resolve)) : undefined)));
    await removeHome();
  }
}

await main();
