/**
 * `loom server --workers 2` over real HTTP on the embedded SQLite database (issue 12: 1,000
 * connections), with the default load shedding: both workers answer and write, concurrent
 * MLflow REST writes through both land without loss, `/metrics` from either worker counts
 * what both answered (and refuses, never hangs, while a worker cannot answer), a killed worker
 * is replaced, and SIGTERM drains what is in flight.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXIT_CODE } from '../../src/core/errors.js';
import { runLoom } from '../support/cli.js';
import { openTestPlatform } from '../support/databases.js';
import { makeTempDir } from '../support/flights.js';
import { childPids, freePort, startLoom } from './support.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** The worker that answered: generated request ids start with a prefix drawn once per process. */
  worker: string;
}

interface Exchange {
  status: number;
  text: string;
  retryAfter?: string;
  /** The worker that answered: generated request ids start with a prefix drawn once per process. */
  worker: string;
}

/** One request on a connection of its own, so the kernel hands each to whichever worker accepts first. */
function exchange(url: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Exchange> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent: false, timeout: 20_000, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text, retryAfter: res.headers['retry-after'], worker: String(res.headers['x-request-id']).split('-')[0]! }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} hung`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * `exchange`, sending again after `Retry-After` seconds when answered 503 with one, as MLflow's
 * client and Prometheus do: load shedding refuses before doing any of the work, so a write
 * refused that way is safe to repeat (a 503 while draining carries no Retry-After and is returned).
 */
async function send(url: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Exchange> {
  for (let attempt = 1; ; attempt++) {
    const answer = await exchange(url, method, path, body);
    if (answer.status !== 503 || answer.retryAfter === undefined || attempt === 5) return answer;
    await new Promise((resolve) => setTimeout(resolve, Number(answer.retryAfter) * 1000));
  }
}

/** One MLflow REST call (`send`), its body parsed. */
async function call(url: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  const answer = await send(url, method, `/api/2.0/mlflow/${path}`, body);
  return { status: answer.status, body: answer.text ? (JSON.parse(answer.text) as Record<string, unknown>) : {}, worker: answer.worker };
}

/** The value of `loom_http_requests_total` for one method, route template and status in a scrape; 0 when absent. */
function requestCount(metrics: string, method: string, route: string, status: number): number {
  const line = metrics
    .split('\n')
    .find((text) => text.startsWith('loom_http_requests_total{') && text.includes(`method="${method}"`) && text.includes(`route="${route}"`) && text.includes(`status="${status}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Creates a run and logs a metric on it: two writes, each on its own connection. */
async function runWithMetric(url: string, experimentId: string, i: number): Promise<Answer[]> {
  const created = await call(url, 'POST', 'runs/create', { experiment_id: experimentId, run_name: `run-${i}` });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const runId = (created.body.run as { info: { run_id: string } }).info.run_id;
  const logged = await call(url, 'POST', 'runs/log-metric', { run_id: runId, key: 'loss', value: i, timestamp: 1_700_000_000_000 + i, step: i });
  assert.equal(logged.status, 200, JSON.stringify(logged.body));
  return [created, logged];
}

async function until(what: string, check: () => Promise<boolean>, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) assert.fail(`${what}:\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('loom server --workers 2: concurrent MLflow writes through both workers all land; a killed worker is replaced; SIGTERM drains', async (t) => {
  let remove: (() => Promise<void>) | undefined;
  const home = await makeTempDir((fn) => (remove = fn));
  t.after(async () => remove?.());
  // A fixed port: a worker that replaces one listens on the same port as the others.
  const server = await startLoom(['server', '--workers', '2', '--port', String(await freePort())], { home, t });
  assert.match(server.stderr(), /with 2 workers/);
  const experiment = await call(server.url, 'POST', 'experiments/create', { name: 'crowd' });
  assert.equal(experiment.status, 200, JSON.stringify(experiment.body));
  const experimentId = String(experiment.body.experiment_id);

  // 60 runs, each created and given a metric, 20 at a time: 120 writes on both workers at once.
  const answers: Answer[] = [];
  for (let batch = 0; batch < 3; batch++) {
    const results = await Promise.all(Array.from({ length: 20 }, (_, j) => runWithMetric(server.url, experimentId, batch * 20 + j)));
    answers.push(...results.flat());
  }
  const workers = new Set(answers.map((answer) => answer.worker));
  assert.equal(workers.size, 2, `every write went to one worker: ${[...workers].join(', ')}`);

  // /metrics from either worker counts the requests both answered (the primary sums the
  // workers' counters). Scrapes go ten at a time, so the kernel spreads them over both workers.
  const scrapedBy = new Set<string>();
  for (let round = 0; round < 10 && scrapedBy.size < 2; round++) {
    for (const scrape of await Promise.all(Array.from({ length: 10 }, () => send(server.url, 'GET', '/metrics')))) {
      assert.equal(scrape.status, 200, scrape.text);
      scrapedBy.add(scrape.worker);
      const answered = (route: string) => requestCount(scrape.text, 'POST', `/api/2.0/mlflow/${route}`, 200);
      assert.deepEqual([answered('experiments/create'), answered('runs/create'), answered('runs/log-metric')], [1, 60, 60], scrape.text);
    }
  }
  assert.equal(scrapedBy.size, 2, `every scrape went to one worker: ${[...scrapedBy].join(', ')}`);

  // A worker that cannot answer (stopped): a scrape is refused with the reason, within the
  // primary's 3 s wait, instead of hanging or summing half; once it runs again, scrapes answer.
  const [victim, survivor] = await childPids(server.child.pid!);
  assert.ok(victim && survivor, server.stderr());
  process.kill(victim, 'SIGSTOP');
  const resume = () => void process.kill(victim, 'SIGCONT');
  t.after(() => {
    try {
      resume();
    } catch {
      // Already gone.
    }
  });
  const refused = await exchange(server.url, 'GET', '/metrics');
  resume();
  assert.equal(refused.status, 503, refused.text);
  assert.equal(refused.retryAfter, '1');
  assert.match(refused.text, new RegExp(`worker ${victim} \\(no answer within`));
  assert.equal((await send(server.url, 'GET', '/metrics')).status, 200);

  // A killed worker: the primary survives and starts another on the same port; the survivor keeps answering.
  process.kill(victim, 'SIGKILL');
  // A scrape while the victim dies: the primary's IPC to it fails or goes unanswered; the scrape
  // is answered, complete (the victim already gone) or refused, and the primary lives.
  const dying = await exchange(server.url, 'GET', '/metrics');
  assert.ok([200, 503].includes(dying.status), `${dying.status} ${dying.text}`);
  await until('the killed worker was not replaced', async () => {
    const pids = await childPids(server.child.pid!);
    return pids.length === 2 && !pids.includes(victim);
  }, server.stderr);
  // The replacement has listened once a call answers from a third process.
  await until('the replacement never answered', async () => {
    const answer = await call(server.url, 'GET', `experiments/get?experiment_id=${experimentId}`);
    return answer.status === 200 && !workers.has(answer.worker);
  }, server.stderr);
  assert.match(server.stderr(), new RegExp(`worker ${victim} exited \\(SIGKILL\\); starting another`));
  assert.equal(server.child.exitCode, null, server.stderr());

  // SIGTERM while requests are in flight: an upload half sent, and ten run creations. The
  // workers stop accepting, finish them, and exit; then the primary exits 0.
  const uploadRun = await call(server.url, 'POST', 'runs/create', { experiment_id: experimentId, run_name: 'upload' });
  const uploadRunId = (uploadRun.body.run as { info: { run_id: string } }).info.run_id;
  const content = 'x'.repeat(64 * 1024);
  let finishUpload!: () => void;
  const upload = new Promise<number>((resolve, reject) => {
    const req = request(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${uploadRunId}/artifacts/slow.txt`, { method: 'PUT', agent: false, headers: { 'content-length': String(content.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.write(content.slice(0, 1024));
    finishUpload = () => req.end(content.slice(1024));
  });
  const creations = Array.from({ length: 10 }, (_, i) => call(server.url, 'POST', 'runs/create', { experiment_id: experimentId, run_name: `late-${i}` }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  server.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  finishUpload();
  assert.equal(await upload, 200, server.stderr());
  assert.deepEqual((await Promise.all(creations)).map((answer) => answer.status), Array(10).fill(200));
  assert.equal(await server.exited, 0, server.stderr());

  // Nothing lost: every run, every metric, and the drained upload's bytes.
  const db = await openTestPlatform(home);
  try {
    const runs = await db.tracking.searchRuns({ experimentIds: [experimentId], maxResults: 1000 });
    assert.equal(runs.items.length, 60 + 1 + 10);
    assert.equal(new Set(runs.items.map((run) => run.info.runName)).size, runs.items.length);
    const losses = runs.items.flatMap((run) => run.data.metrics.filter((metric) => metric.key === 'loss').map((metric) => metric.value));
    assert.deepEqual(losses.sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i));
    const uploaded = (await readdir(home, { recursive: true })).filter((path) => path.endsWith(`${uploadRunId}/artifacts/slow.txt`));
    assert.equal(uploaded.length, 1);
    assert.equal(await readFile(join(home, uploaded[0]!), 'utf8'), content);
  } finally {
    await db.close();
  }
});

test('loom server --workers 2 off loopback without authentication is refused once, by the primary; a worker count below 1 names the flag', async (t) => {
  let remove: (() => Promise<void>) | undefined;
  const home = await makeTempDir((fn) => (remove = fn));
  t.after(async () => remove?.());
  const refused = await runLoom(['server', '--workers', '2', '--host', '0.0.0.0', '--port', '0'], { cwd: home, env: { LOOM_HOME: home } });
  assert.equal(refused.code, EXIT_CODE.FAILED_PRECONDITION, refused.stderr);
  assert.equal(refused.stderr.match(/refusing to listen on 0\.0\.0\.0 without authentication/g)?.length, 1, refused.stderr);
  const zero = await runLoom(['server', '--workers', '0'], { cwd: home, env: { LOOM_HOME: home } });
  assert.equal(zero.code, EXIT_CODE.INVALID_ARGUMENT, zero.stderr);
  assert.match(zero.stderr, /workers/);
});
