/**
 * The dashboard at volume, in Debian's Chromium through playwright-core, against the platform
 * API fed through MLflow's REST paths (as an MLflow client would):
 *   - a run with 100,000 points of one metric: time from navigation to its curve drawn;
 *   - an experiment with 10,000 runs (5 params, 3 metrics each): time from navigation to the
 *     runs table's first page, and from pressing Apply on a filter to the filtered page.
 * Goals (issue 14): chart < 1 s, table and filter < 500 ms each. Medians of --repeat runs.
 * The MLflow UI reference needs the full `mlflow` package (its server bundles the UI's
 * JavaScript); the test venv has `mlflow-skinny`, which has no UI: the bench says so and
 * measures Loom alone.
 *
 * Usage: node --import tsx bench/dashboard.ts [--runs 10000] [--points 100000] [--repeat 5] [--out bench/results/dashboard.md]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable } from '../src/cli/output.js';
import { startPlatformServer } from '../src/server/server.js';
import { DASHBOARD_DIR } from '../src/server/routes/dashboard.js';
import { openTestPlatform } from '../test/support/databases.js';
import { launchChromium } from '../test/support/chromium.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    points: { type: 'string', default: '100000' },
    repeat: { type: 'string', default: '5' },
    python: { type: 'string', default: '.venv-test/bin/python' },
    out: { type: 'string' },
  },
});
const RUNS = Number(values.runs);
const POINTS = Number(values.points);
const REPEAT = Number(values.repeat);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function call(base: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
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

function mlflowUi(python: string): string {
  if (!existsSync(python)) return `no Python at ${python}`;
  const probe = spawnSync(python, ['-c', 'import mlflow, os; print(os.path.isdir(os.path.join(os.path.dirname(mlflow.__file__), "server", "js", "build")))'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'mlflow is not installed in that venv';
  return probe.stdout.trim() === 'True' ? 'available' : 'not measured: the venv has mlflow-skinny, which ships no UI (the full `mlflow` package serves it)';
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
    const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms`;
    const rows = [
      [`run with ${POINTS.toLocaleString('en')} metric points: curve drawn after navigation`, ms(chart), '< 1000 ms'],
      [`${RUNS.toLocaleString('en')} runs: first page of the table after navigation`, ms(table), '< 500 ms'],
      [`${RUNS.toLocaleString('en')} runs: filter applied (metrics.score < 0.0025, ${expected} runs)`, ms(filter), '< 500 ms'],
    ];
    const report = [
      `Dashboard (Chromium ${browser.version()}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}; medians of ${REPEAT}; SQLite backend)`,
      '',
      formatTable(['view', 'Loom', 'goal'], rows),
      '',
      `MLflow UI reference: ${mlflowUi(values.python)}`,
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
