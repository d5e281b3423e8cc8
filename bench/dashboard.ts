/**
 * The dashboard at volume, in Debian's Chromium through playwright-core, against the platform
 * API fed through MLflow's REST paths (as an MLflow client would):
 *   - a run with 100,000 points of one metric: time from navigation to its curve drawn;
 *   - an experiment with 10,000 runs (5 params, 3 metrics each): time from navigation to the
 *     runs table's first page, and from pressing Enter in the filter box to the filtered page
 *     (the same key MLflow's side presses: a click would add Playwright's actionability waits
 *     to one side only).
 * The same runs and points are fed through the same REST calls to MLflow's own server (the
 * full `mlflow` package, bench/mlflow-ui.ts) and the same views are measured in its UI with the
 * same browser, interleaved with Loom's. Goals (issue 14): chart < 1 s, table and filter
 * < 500 ms each, and each view at least 5x faster than MLflow's. Medians of --repeat runs.
 * --mlflow-store DIR keeps MLflow's store in DIR and, on a later run with the same --runs and
 * --points, reuses it instead of feeding it again (the feed takes about 8 minutes at full size).
 *
 * Usage: node --import tsx bench/dashboard.ts [--runs 10000] [--points 100000] [--repeat 5] [--skip-mlflow] [--mlflow-store DIR] [--out bench/results/dashboard.md]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable } from '../src/cli/output.js';
import { startPlatformServer } from '../src/server/server.js';
import { DASHBOARD_DIR } from '../src/server/routes/dashboard.js';
import { openTestPlatform } from '../test/support/databases.js';
import { launchChromium } from '../test/support/chromium.js';
import { mlflowChart, mlflowFilter, mlflowTable, startMlflowServer } from './mlflow-ui.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    points: { type: 'string', default: '100000' },
    repeat: { type: 'string', default: '5' },
    'skip-mlflow': { type: 'boolean', default: false },
    'mlflow-store': { type: 'string' },
    out: { type: 'string' },
  },
});
const RUNS = Number(values.runs);
const POINTS = Number(values.points);
const REPEAT = Number(values.repeat);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function call(base: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const send = () => fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // One retry when the server closed an idle keep-alive connection as it was reused (MLflow's
  // uvicorn closes them after 5 s): that request never reached it.
  const response = await send().catch((error: { cause?: { code?: string } }) => {
    if (error.cause?.code === 'UND_ERR_SOCKET') return send();
    throw error;
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/** 10,000 runs, each created and logged through REST, a few requests in flight at once. */
async function feedRuns(base: string, experimentId: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < RUNS) {
      const i = next++;
      const created = (await call(base, 'runs/create', { experiment_id: experimentId, run_name: `run-${i}`, start_time: 1_700_000_000_000 + i })) as { run: { info: { run_id: string } } };
      await call(base, 'runs/log-batch', {
        run_id: created.run.info.run_id,
        params: [0, 1, 2, 3, 4].map((p) => ({ key: `p${p}`, value: String((i * (p + 7)) % 97) })),
        // score = i / RUNS, so a filter's result size is known in advance.
        metrics: [
          { key: 'score', value: i / RUNS, timestamp: 1_700_000_000_000, step: 0 },
          { key: 'loss', value: 1 / (1 + i), timestamp: 1_700_000_000_000, step: 0 },
          { key: 'auc', value: 0.5 + (i % 50) / 100, timestamp: 1_700_000_000_000, step: 0 },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function feedLongRun(base: string, experimentId: string): Promise<string> {
  const created = (await call(base, 'runs/create', { experiment_id: experimentId, run_name: 'long', start_time: 1_700_000_000_000 })) as { run: { info: { run_id: string } } };
  const runId = created.run.info.run_id;
  for (let start = 0; start < POINTS; start += 1000) {
    const metrics = Array.from({ length: Math.min(1000, POINTS - start) }, (_, k) => ({ key: 'loss', value: Math.exp(-(start + k) / POINTS) + 0.01 * Math.sin(start + k), timestamp: 1_700_000_000_000 + start + k, step: start + k }));
    await call(base, 'runs/log-batch', { run_id: runId, metrics });
  }
  return runId;
}

/** What a fed MLflow store holds, written beside it so a later run with the same --mlflow-store, --runs and --points reuses it. */
interface FedStore {
  runs: number;
  points: number;
  experimentId: string;
  longRun: string;
}

/** Feeds MLflow's server unless its store already holds the same feed (the feed takes minutes at full size). */
async function feedMlflow(url: string, storeDir: string): Promise<FedStore> {
  const record = join(storeDir, 'bench-feed.json');
  if (existsSync(record)) {
    const fed = JSON.parse(readFileSync(record, 'utf8')) as FedStore;
    if (fed.runs === RUNS && fed.points === POINTS) {
      console.log(`reusing the MLflow store in ${storeDir}`);
      return fed;
    }
    throw new Error(`${storeDir} holds ${fed.runs} runs and ${fed.points} points, not ${RUNS} and ${POINTS}: name another --mlflow-store`);
  }
  const experimentId = String(((await call(url, 'experiments/create', { name: 'bench', tags: [{ key: 'mlflow.experimentKind', value: 'custom_model_development' }] })) as { experiment_id: string }).experiment_id);
  const started = performance.now();
  await feedRuns(url, experimentId);
  const longRun = await feedLongRun(url, experimentId);
  console.log(`fed MLflow the same in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const fed = { runs: RUNS, points: POINTS, experimentId, longRun };
  writeFileSync(record, JSON.stringify(fed));
  return fed;
}

async function main(): Promise<void> {
  if (!existsSync(join(DASHBOARD_DIR, 'index.html'))) throw new Error('build the dashboard first: node scripts/build-dashboard.mjs');
  const chromium = process.env.LOOM_TEST_CHROMIUM ?? '/usr/bin/chromium';
  const dir = mkdtempSync(join(tmpdir(), 'loom-bench-dashboard-'));
  const mlflowStore = values['mlflow-store'] ? resolve(values['mlflow-store']) : join(dir, 'mlflow');
  mkdirSync(mlflowStore, { recursive: true });
  const db = await openTestPlatform(dir);
  const server = await startPlatformServer({ port: 0, db, artifacts: db.artifacts });
  const mlflow = values['skip-mlflow'] ? undefined : await startMlflowServer(mlflowStore);
  const browser = await launchChromium(chromium);
  try {
    const experimentId = String(((await call(server.url, 'experiments/create', { name: 'bench' })) as { experiment_id: string }).experiment_id);
    let started = performance.now();
    await feedRuns(server.url, experimentId);
    const longRun = await feedLongRun(server.url, experimentId);
    console.log(`fed ${RUNS} runs and ${POINTS} points in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // The same data through the same REST calls into MLflow's own server.
    const theirFeed = mlflow && (await feedMlflow(mlflow.url, mlflowStore));

    // One page per UI, so each keeps its own cache and saved state, as a returning user's would.
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const theirPage = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    // Playwright's 30 s default is too short for MLflow's pages on a loaded machine; a slow view is a figure, not a failure.
    for (const each of [page, theirPage]) each.setDefaultTimeout(300_000);
    const ours = { chart: [] as number[], table: [] as number[], filter: [] as number[] };
    const theirs = { chart: [] as number[], table: [] as number[], filter: [] as number[] };
    const expected = Math.round(0.0025 * RUNS);
    const filter = 'metrics.score < 0.0025';
    const loads: number[] = [];
    // Interleaved, view by view, so a change of the shared machine's load hits both UIs alike.
    for (let i = 0; i < REPEAT; i++) {
      await page.goto('about:blank');
      started = performance.now();
      await page.goto(`${server.url}/experiments/${experimentId}/runs/${longRun}`);
      await page.locator(`figure[data-points="${POINTS}"] canvas`).waitFor();
      ours.chart.push(performance.now() - started);
      if (mlflow && theirFeed) theirs.chart.push(await mlflowChart(theirPage, mlflow.url, theirFeed.experimentId, theirFeed.longRun));

      await page.goto('about:blank');
      started = performance.now();
      await page.goto(`${server.url}/experiments/${experimentId}`);
      await page.getByText('50 runs on this page').waitFor();
      ours.table.push(performance.now() - started);
      if (mlflow && theirFeed) theirs.table.push(await mlflowTable(theirPage, mlflow.url, theirFeed.experimentId, `run-${RUNS - 1}`));

      const box = page.getByLabel('Filter runs');
      await box.fill(filter);
      started = performance.now();
      await box.press('Enter');
      await page.getByText(`${expected} ${expected === 1 ? 'run' : 'runs'} on this page`).waitFor();
      ours.filter.push(performance.now() - started);
      if (mlflow && theirFeed) theirs.filter.push(await mlflowFilter(theirPage, filter, `run-${expected - 1}`));
      loads.push(loadavg()[0]!);
    }
    const ms = (xs: number[]) => (xs.length ? `${median(xs).toFixed(0)} ms` : 'not measured');
    const ratio = (mine: number[], mlflows: number[]) => (mlflows.length ? `${(median(mlflows) / median(mine)).toFixed(1)}x` : '');
    const row = (view: string, mine: number[], mlflows: number[], goal: string) => [view, ms(mine), ms(mlflows), ratio(mine, mlflows), goal];
    const rows = [
      row(`run with ${POINTS.toLocaleString('en')} metric points: curve drawn after navigation`, ours.chart, theirs.chart, '< 1000 ms, >= 5x'),
      row(`${RUNS.toLocaleString('en')} runs: first page of the table after navigation`, ours.table, theirs.table, '< 500 ms, >= 5x'),
      row(`${RUNS.toLocaleString('en')} runs: filter applied (${filter}, ${expected} ${expected === 1 ? 'run' : 'runs'})`, ours.filter, theirs.filter, '< 500 ms, >= 5x'),
    ];
    const report = [
      `Dashboard (Chromium ${browser.version()}, ${cpus().length} cores, load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} during the views; medians of ${REPEAT}, Loom and MLflow interleaved; SQLite backends)`,
      '',
      formatTable(['view', 'Loom', 'MLflow UI', 'MLflow / Loom', 'goal'], rows),
      '',
      `all timings (ms): ${JSON.stringify({ loom: ours, mlflow: theirs }, (_, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`,
    ].join('\n');
    console.log(report);
    if (values.out) writeFileSync(values.out, `${report}\n`);
  } finally {
    await browser.close();
    await mlflow?.close();
    await server.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
