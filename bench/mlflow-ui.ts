/**
 * The MLflow UI side of bench/dashboard.ts: the full `mlflow` package's own server (its
 * Python tracking server with the bundled React UI), over a SQLite backend store in a
 * temporary folder, on a free loopback port, and the same two views measured in the same
 * Chromium. The venv (.venv-bench-mlflow, python/requirements-bench-mlflow.txt: `mlflow`
 * pinned to the test venv's `mlflow-skinny`) is created on the bench's first run, never by
 * `npm test`; LOOM_BENCH_MLFLOW_PYTHON names another interpreter.
 *
 * Usage: const mlflow = await startMlflowServer(dir); ... await mlflow.close();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
// @ts-expect-error plain ESM script without types
import { ensurePythonEnv } from '../scripts/python.mjs';
import { freePort } from '../test/security/support.js';

export interface MlflowServer {
  url: string;
  close(): Promise<void>;
}

/** `mlflow server` with one worker per core (2 here; its default is 4), SQLite store and artifacts under `dir`; resolves once /health answers. */
export async function startMlflowServer(dir: string): Promise<MlflowServer> {
  const python: string = ensurePythonEnv({ venv: '.venv-bench-mlflow', requirements: 'python/requirements-bench-mlflow.txt', override: 'LOOM_BENCH_MLFLOW_PYTHON' });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['-m', 'mlflow', 'server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`, '--default-artifact-root', join(dir, 'mlflow-artifacts'), '--workers', '2'];
  // Its own process group, so closing stops the workers it forks too.
  const child: ChildProcess = spawn(python, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, MLFLOW_ENABLE_TELEMETRY: 'false', MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' } });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const close = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 300_000;
  for (;;) {
    const healthy = await fetch(`${url}/health`).then((response) => response.ok, () => false);
    if (healthy) return { url, close };
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`mlflow server did not start:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Navigation to the run's metric chart (the run page's model-metrics tab) until the chart's line is drawn. */
export async function mlflowChart(page: Page, url: string, experimentId: string, runId: string): Promise<number> {
  await page.goto('about:blank');
  const started = performance.now();
  await page.goto(`${url}/#/experiments/${experimentId}/runs/${runId}/model-metrics`);
  await page.locator(CHART_DRAWN).first().waitFor();
  return performance.now() - started;
}

/**
 * Navigation to the experiment's runs until the table's first row shows the newest run's name.
 * The URL names an empty filter and the default order (start time, newest first) because the UI
 * otherwise restores the last filter it saw, the one mlflowFilter typed.
 */
export async function mlflowTable(page: Page, url: string, experimentId: string, newestRun: string): Promise<number> {
  await page.goto('about:blank');
  const started = performance.now();
  await page.goto(`${url}/#/experiments/${experimentId}/runs?searchFilter=&orderByKey=attributes.start_time&orderByAsc=false`);
  await firstRowName(page, newestRun).waitFor();
  return performance.now() - started;
}

/** Typing the filter and pressing Enter until the table's first row shows the newest matching run. */
export async function mlflowFilter(page: Page, filter: string, newestMatching: string): Promise<number> {
  const search = page.locator(SEARCH).first();
  await search.fill(filter);
  const started = performance.now();
  await search.press('Enter');
  await firstRowName(page, newestMatching).waitFor();
  return performance.now() - started;
}

/** The run-name link of the table's first row (ag-grid keeps the run-name column pinned on the left, apart from the other columns). */
function firstRowName(page: Page, runName: string) {
  return page.locator(FIRST_ROW).getByRole('link', { name: runName, exact: true });
}

// Selectors of MLflow 3.17's UI, read from its rendered pages (screenshots and DOM of a
// 300-run experiment): the runs table (the experiment's /runs tab, shown for an experiment of
// kind custom_model_development, 100 runs a page, newest first) is an ag-grid whose rows carry
// role="row" and row-index; the run name, a link, sits in the left-pinned container, so a row of
// the centre container never holds it; the run search box (data-testid search-box) has a
// placeholder naming `metrics.rmse`; a chart is a Plotly graph whose trace path is drawn.
const FIRST_ROW = '.ag-pinned-left-cols-container [role="row"][row-index="0"]';
const SEARCH = 'input[data-testid="search-box"]';
const CHART_DRAWN = '.js-plotly-plot .scatterlayer path.js-line';
