/**
 * The dashboard at volume, in Debian's Chromium through playwright-core, against the platform
 * API fed through MLflow's REST paths (as an MLflow client would):
 *   - a run with 100,000 points of one metric: time from navigation to its curve drawn;
 *   - an experiment with 10,000 runs (5 params, 3 metrics each): time from navigation to the
 *     runs table's first page, and from pressing Apply on a filter to the filtered page.
 * Then the same runs and points are fed through the same REST calls to MLflow's own server
 * (the full `mlflow` package, bench/mlflow-ui.ts) and the same two views are measured in its
 * UI with the same browser. Goals (issue 14): chart < 1 s, table and filter < 500 ms each,
 * and each view at least 5x faster than MLflow's. Medians of --repeat runs.
 *
 * Usage: node --import tsx bench/dashboard.ts [--runs 10000] [--points 100000] [--repeat 5] [--skip-mlflow] [--out bench/results/dashboard.md]
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
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

async function main(): Promise<void> {
  if (!existsSync(join(DASHBOARD_DIR, 'index.html'))) throw new Error('build the dashboard first: node scripts/build-dashboard.mjs');
  const chromium = process.env.LOOM_TEST_CHROMIUM ?? '/usr/bin/chromium';
  const dir = mkdtempSync(join(tmpdir(), 'loom-bench-dashboard-'));
  const db = await openTestPlatform(dir);
  const server = await startPlatformServer({ port: 0, db, artifacts: db.artifacts });
  const browser = await launchChromium(chromium);
  try {
    const experimentId = String(((await call(server.url, 'experiments/create', { name: 'bench' })) as { experiment_id: string }).experiment_id);
    let started = performance.now();
    await feedRuns(server.url, experimentId);
    const longRun = await feedLongRun(server.url, experimentId);
    console.log(`fed ${RUNS} runs and ${POINTS} points in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const chart: number[] = [];
    const table: number[] = [];
    const filter: number[] = [];
    const expected = Math.round(0.0025 * RUNS);
    for (let i = 0; i < REPEAT; i++) {
      await page.goto('about:blank');
      started = performance.now();
      await page.goto(`${server.url}/experiments/${experimentId}/runs/${longRun}`);
      await page.locator(`figure[data-points="${POINTS}"] canvas`).waitFor();
      chart.push(performance.now() - started);

      await page.goto('about:blank');
      started = performance.now();
      await page.goto(`${server.url}/experiments/${experimentId}`);
      await page.getByText('50 runs on this page').waitFor();
      table.push(performance.now() - started);

      await page.getByLabel('Filter runs').fill('metrics.score < 0.0025');
      started = performance.now();
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.getByText(`${expected} runs on this page`).waitFor();
      filter.push(performance.now() - started);
    }
    const loadDuringLoom = loadavg()[0]!;

    // The same data through the same REST calls into MLflow's own server, the same views in its UI.
    const theirs = { chart: [] as number[], table: [] as number[], filter: [] as number[] };
    let loadDuringMlflow: number | undefined;
    if (!values['skip-mlflow']) {
      const mlflow = await startMlflowServer(dir);
      try {
        const mlflowExperiment = String(((await call(mlflow.url, 'experiments/create', { name: 'bench', tags: [{ key: 'mlflow.experimentKind', value: 'custom_model_development' }] })) as { experiment_id: string }).experiment_id);
        started = performance.now();
        await feedRuns(mlflow.url, mlflowExperiment);
        const mlflowLongRun = await feedLongRun(mlflow.url, mlflowExperiment);
        console.log(`fed MLflow the same in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        for (let i = 0; i < REPEAT; i++) {
          theirs.chart.push(await mlflowChart(page, mlflow.url, mlflowExperiment, mlflowLongRun));
          theirs.table.push(await mlflowTable(page, mlflow.url, mlflowExperiment, `run-${RUNS - 1}`));
          theirs.filter.push(await mlflowFilter(page, 'metrics.score < 0.0025', `run-${expected - 1}`, `run-${RUNS - 1}`));
        }
        loadDuringMlflow = loadavg()[0]!;
      } finally {
        await mlflow.close();
      }
    }
    const ms = (xs: number[]) => (xs.length ? `${median(xs).toFixed(0)} ms` : 'not measured');
    const ratio = (ours: number[], mlflows: number[]) => (mlflows.length ? `${(median(mlflows) / median(ours)).toFixed(1)}x` : '');
    const row = (view: string, ours: number[], mlflows: number[], goal: string) => [view, ms(ours), ms(mlflows), ratio(ours, mlflows), goal];
    const rows = [
      row(`run with ${POINTS.toLocaleString('en')} metric points: curve drawn after navigation`, chart, theirs.chart, '< 1000 ms, >= 5x'),
      row(`${RUNS.toLocaleString('en')} runs: first page of the table after navigation`, table, theirs.table, '< 500 ms, >= 5x'),
      row(`${RUNS.toLocaleString('en')} runs: filter applied (metrics.score < 0.0025, ${expected} runs)`, filter, theirs.filter, '< 500 ms, >= 5x'),
    ];
    const report = [
      `Dashboard (Chromium ${browser.version()}, ${cpus().length} cores, load ${loadDuringLoom.toFixed(1)} after Loom's views${loadDuringMlflow === undefined ? '' : `, ${loadDuringMlflow.toFixed(1)} after MLflow's`}; medians of ${REPEAT}; SQLite backends)`,
      '',
      formatTable(['view', 'Loom', 'MLflow UI', 'MLflow / Loom', 'goal'], rows),
    ].join('\n');
    console.log(report);
    if (values.out) writeFileSync(values.out, `${report}\n`);
  } finally {
    await browser.close();
    await server.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
