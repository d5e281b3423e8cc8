/**
 * Tracking ingest: metric points per second through HTTP log-batch (1,000 metrics per
 * request, several requests in flight from a client on a worker thread) into the embedded SQLite store, against the raw
 * rate of inserting the same rows with a better-sqlite3 prepared statement in one
 * transaction, measured in the same run. Also the store's own logBatch rate (no HTTP),
 * to show where the time goes. Goal: at least 50,000 points/s through HTTP.
 *
 * Usage: node --import tsx bench/tracking.ts [--requests 300] [--concurrency 4] [--out bench/results/tracking.md]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { formatTable } from '../src/cli/output.js';
import type { LoomDatabase } from '../src/pipeline/stores.js';
import { openTestPlatform } from '../test/support/databases.js';
import { startPlatformServer } from '../src/server/server.js';
import { LocalArtifactStore } from '../src/store/local-artifact-store.js';
import type { Metric } from '../src/tracking/types.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '4' },
    out: { type: 'string' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const PER_REQUEST = 1000;
const KEYS = 20;

/** Request i's 1,000 points: 20 metric keys x 50 consecutive steps. */
function batch(i: number): Metric[] {
  const metrics: Metric[] = [];
  const t0 = 1_700_000_000_000;
  for (let s = 0; s < PER_REQUEST / KEYS; s++) {
    const step = i * (PER_REQUEST / KEYS) + s;
    for (let k = 0; k < KEYS; k++) metrics.push({ key: `metric_${k}`, value: Math.sin(step * 0.01 + k), timestamp: t0 + step, step });
  }
  return metrics;
}

async function freshDb(dir: string, name: string): Promise<{ db: LoomDatabase; path: string }> {
  const path = join(dir, name);
  return { db: await openTestPlatform(dir, { database: path }), path };
}

/** The HTTP client: posts every body, `concurrency` at a time, and reports the elapsed time. */
const LOAD_GENERATOR = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, bodies, concurrency } = workerData;
const failures = [];
let next = 0;
const started = performance.now();
Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < bodies.length) {
    const response = await fetch(url, { method: 'POST', body: bodies[next++], headers: { 'content-type': 'application/json' } });
    const text = await response.text();
    if (response.status !== 200) failures.push(response.status + ' ' + text);
  }
})).then(() => parentPort.postMessage({ seconds: (performance.now() - started) / 1000, failures }));
`;

async function viaHttp(dir: string): Promise<number> {
  const { db } = await freshDb(dir, 'http.db');
  const server = await startPlatformServer({ port: 0, db, artifacts: new LocalArtifactStore(join(dir, 'artifacts')) });
  try {
    const run = await db.tracking.createRun({ runName: 'bench-http' });
    const url = `${server.url}/api/2.0/mlflow/runs/log-batch`;
    const bodies = Array.from({ length: REQUESTS + 1 }, (_, i) => JSON.stringify({ run_id: run.info.runId, metrics: batch(i) }));
    const warm = await fetch(url, { method: 'POST', body: bodies.pop()!, headers: { 'content-type': 'application/json' } });
    if (warm.status !== 200) throw new Error(`log-batch answered ${warm.status}: ${await warm.text()}`);
    // The client runs on a worker thread, so sending requests does not share the server's event loop.
    const { seconds, failures } = await new Promise<{ seconds: number; failures: string[] }>((resolve, reject) => {
      const worker = new Worker(LOAD_GENERATOR, { eval: true, workerData: { url, bodies, concurrency: CONCURRENCY } });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (failures.length > 0) throw new Error(`${failures.length} log-batch requests failed, first: ${failures[0]}`);
    const history = await db.tracking.getMetricHistory(run.info.runId, 'metric_0', { maxResults: 1_000_000 });
    if (history.items.length !== (REQUESTS + 1) * (PER_REQUEST / KEYS)) throw new Error(`expected every point stored, found ${history.items.length}`);
    return (REQUESTS * PER_REQUEST) / seconds;
  } finally {
    await server.close();
    await db.close();
  }
}

async function viaStore(dir: string): Promise<number> {
  const { db } = await freshDb(dir, 'store.db');
  try {
    const run = await db.tracking.createRun({ runName: 'bench-store' });
    const batches = Array.from({ length: REQUESTS }, (_, i) => batch(i));
    await db.tracking.logBatch(run.info.runId, { metrics: batch(REQUESTS) });
    const started = performance.now();
    for (const metrics of batches) await db.tracking.logBatch(run.info.runId, { metrics });
    return (REQUESTS * PER_REQUEST) / ((performance.now() - started) / 1000);
  } finally {
    await db.close();
  }
}

/** The reference: the same rows, one prepared INSERT per row, all in one transaction, same schema and pragmas. */
async function rawSqlite(dir: string): Promise<number> {
  const { db, path } = await freshDb(dir, 'raw.db');
  const run = await db.tracking.createRun({ runName: 'bench-raw' });
  await db.close();
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  try {
    const { id: runKey } = sqlite.prepare('select id from tracking_run where run_id = ?').get(run.info.runId) as { id: number };
    const insert = sqlite.prepare('insert into tracking_metric (run_key, key, value, is_nan, timestamp, step) values (?, ?, ?, 0, ?, ?)');
    const rows = Array.from({ length: REQUESTS }, (_, i) => batch(i)).flat();
    const insertAll = sqlite.transaction((all: Metric[]) => {
      for (const m of all) insert.run(runKey, m.key, m.value, m.timestamp, m.step);
    });
    const started = performance.now();
    insertAll(rows);
    return rows.length / ((performance.now() - started) / 1000);
  } finally {
    sqlite.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'loom-bench-tracking-'));
try {
  const raw = await rawSqlite(dir);
  const store = await viaStore(dir);
  const http = await viaHttp(dir);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const table = formatTable(
    ['path', 'points/s', 'vs raw better-sqlite3', 'goal'],
    [
      ['raw better-sqlite3 prepared INSERT, one transaction (reference)', fmt(raw), '1.00', ''],
      ['TrackingStore.logBatch in-process, one 1,000-point call at a time', fmt(store), (store / raw).toFixed(2), ''],
      [`HTTP runs/log-batch (1,000 points per request, ${CONCURRENCY} in flight)`, fmt(http), (http / raw).toFixed(2), http >= 50_000 ? '>= 50,000: met' : '>= 50,000: NOT met'],
    ],
  );
  const command = `node --import tsx bench/tracking.ts --requests ${REQUESTS} --concurrency ${CONCURRENCY}`;
  process.stdout.write(`${table}\n`);
  if (values.out) {
    writeFileSync(values.out, [
      '# Tracking ingest: metric points per second',
      '',
      `${REQUESTS} requests of ${PER_REQUEST} metric points (20 keys x 50 steps) into one run of the embedded SQLite store (WAL, synchronous=NORMAL; batches that arrive while a transaction is writing share the next one (group commit); the points go in as one \`INSERT ... SELECT FROM json_each(?)\` statement per 5,000 rows, plus one upsert of the latest point per key). The HTTP client runs on a worker thread of the same process. The reference inserts the same rows with one better-sqlite3 prepared statement per row in a single transaction, measured in the same run.`,
      '',
      '```',
      table,
      '```',
      '',
      `Reproduce: \`${command} --out bench/results/tracking.md\``,
      '',
      `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, shared with other work while measured (load average ${loadavg()[0]!.toFixed(1)} at the end), so absolute numbers are noisy and the ratios less so; the lead re-runs on a quiet machine.`,
      '',
    ].join('\n'));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
