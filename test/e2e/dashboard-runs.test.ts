// The dashboard's run views in a real browser against a real `loom server`: a project whose
// flights pipeline has a tune step (`loom run` of it makes a pipeline run that records its
// file, and a tuning study: the step's tracking run with a nested run per trial). Runs are
// ticked in the runs table and compared (the URL holds the selection), the study opens as
// parallel coordinates, and a pipeline run is run again from its page (the new run's steps
// shown; a refusal shows the server's message). No console errors, no serious axe violations.
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, testChromium } from '../support/chromium.js';
import { runLoom, runProcess } from '../support/cli.js';
import { seriousViolations, startLoomServer, watchConsole, type RunningServer } from '../support/dashboard-project.js';
import { makeTempDir, writeFlightsSlice } from '../support/flights.js';

const chromiumPath = testChromium();
const skip = { skip: chromiumPath ? false : 'LOOM_TEST_CHROMIUM is not set; run `npm test` (it installs Debian chromium)' };
const EXAMPLE = fileURLToPath(new URL('../../examples/flights/pipeline.ts', import.meta.url));
const TRIALS = 3;

let dir: string;
let pipelineFile: string;
let runId: string;
let server: RunningServer;
let browser: Browser;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  if (!chromiumPath) return;
  const built = await runProcess(process.execPath, [fileURLToPath(new URL('../../scripts/build-dashboard.mjs', import.meta.url))]);
  assert.equal(built.code, 0, built.stderr);
  dir = await makeTempDir((fn) => void cleanups.push(fn), 'loom-dashboard-runs-');
  const source = join(dir, 'flights.csv');
  await writeFlightsSlice(source, { months: [1, 2], every: 120, format: 'csv' });
  pipelineFile = join(dir, 'pipeline.ts');
  const tune = { trainer: 'gbdt', space: { learningRate: { type: 'loguniform', low: 0.05, high: 0.3 }, numLeaves: { type: 'int', low: 4, high: 31 } }, fixed: { numTrees: 5, earlyStoppingRounds: 0 }, trials: TRIALS, parallelism: 2, seed: 3 };
  await writeFile(pipelineFile, `import { flightsPipeline } from ${JSON.stringify(EXAMPLE)};\nexport default flightsPipeline({ source: ${JSON.stringify(source)}, schemaPath: ${JSON.stringify(join(dir, 'schema.json'))}, tune: ${JSON.stringify(tune)} });\n`);
  const ran = await runLoom(['run', pipelineFile, '--json'], { cwd: dir });
  assert.equal(ran.code, 0, ran.stderr);
  runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
  server = await startLoomServer(dir);
  browser = await launchChromium(chromiumPath);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const cleanup of cleanups) await cleanup();
});

async function open(path: string): Promise<{ page: Page; console: ReturnType<typeof watchConsole> }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const console = watchConsole(page);
  await page.goto(`${server.url}${path}`);
  return { page, console };
}

async function checkPage(page: Page, console: ReturnType<typeof watchConsole>, what: string): Promise<void> {
  assert.deepEqual(await seriousViolations(page), [], `${what}: no serious axe-core violations`);
  assert.deepEqual(console.errors, [], `${what}: no console errors`);
}

test('runs ticked in the table open side by side; the study of a tune step shows its trials as parallel coordinates', skip, async () => {
  const { page, console } = await open('/experiments');
  await page.getByRole('link', { name: 'flights' }).click();
  const table = page.locator('table.runs');
  await table.getByRole('link', { name: 'trial-0' }).waitFor();
  await table.getByRole('checkbox', { name: 'Select trial-0 to compare' }).check();
  await table.getByRole('checkbox', { name: 'Select trial-1 to compare' }).check();
  await page.waitForURL(/selected=\w+%2C\w+|selected=\w+,\w+/);
  await checkPage(page, console, 'runs table with a selection');
  await page.getByRole('link', { name: 'Compare 2 selected' }).click();
  await page.waitForURL(/\/compare\?runs=/);
  const compared = page.getByRole('table', { name: 'Parameters and latest metrics by run' });
  await compared.getByRole('columnheader', { name: 'trial-0' }).waitFor();
  assert.ok(await compared.getByRole('columnheader', { name: 'trial-1' }).isVisible());
  assert.ok(await compared.getByRole('rowheader', { name: 'learningRate' }).isVisible(), 'the parameters side by side');
  assert.ok(await compared.getByRole('rowheader', { name: 'holdout_log_loss' }).isVisible(), 'the metrics side by side');
  await page.getByRole('img', { name: /^holdout_log_loss of 2 runs: 2 series/ }).locator('canvas').waitFor();
  const lines = page.getByRole('img', { name: /^Parallel coordinates of 2 runs: learningRate, numLeaves against holdout_log_loss/ });
  assert.equal(await lines.locator('path.pc-line').count(), 2);
  await checkPage(page, console, 'compare view');
  // The URL is the view: opened afresh, it shows the same runs.
  const shared = await open(new URL(page.url()).pathname + new URL(page.url()).search);
  await shared.page.getByRole('table', { name: 'Parameters and latest metrics by run' }).getByRole('columnheader', { name: 'trial-1' }).waitFor();
  await shared.page.close();

  // The tune step's run is the study: its page links to every trial as parallel coordinates.
  await page.goto(`${server.url}/experiments`);
  await page.getByRole('link', { name: 'flights' }).click();
  await page.getByRole('link', { name: /^tune/ }).first().click();
  await page.getByRole('link', { name: /its trials side by side/ }).click();
  await page.getByRole('heading', { name: /^Tuning study/ }).waitFor();
  const study = page.getByRole('img', { name: new RegExp(`^Parallel coordinates of ${TRIALS} runs: learningRate, numLeaves against holdout_log_loss`) });
  await study.waitFor();
  assert.equal(await study.locator('path.pc-line').count(), TRIALS, 'a line per trial');
  assert.ok((await study.locator('path.pc-line').first().getAttribute('d'))!.split('L').length === 3, 'each line crosses the two parameter axes and the metric axis');
  await checkPage(page, console, 'tuning study');
  await page.close();
});

test('a pipeline run runs again from its page: the new run opens with its steps; a refusal shows the server’s message', skip, async () => {
  const { page, console } = await open(`/pipelines/${runId}`);
  await page.getByRole('button', { name: /^tune\s*COMPLETE/ }).waitFor();
  await page.getByRole('button', { name: 'Run again' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/pipelines/') && !url.pathname.endsWith(runId));
  const newRun = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
  // Same inputs, same parameters: the steps come from the cache.
  await page.getByRole('button', { name: /^tune\s*CACHED/ }).waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: /^push\s*(COMPLETE|CACHED|SKIPPED)/ }).waitFor({ timeout: 60_000 });
  const listed = (await (await fetch(`${server.url}/api/loom/pipeline-runs`)).json()) as { runs: { runId: string; state: string }[] };
  assert.ok(listed.runs.some((r) => r.runId === newRun), 'the new run is recorded');
  await checkPage(page, console, 'the re-run');

  // The pipeline file is gone: the server refuses, and the page shows what it said.
  await rename(pipelineFile, `${pipelineFile}.moved`);
  await console.expecting(404, async () => {
    await page.getByRole('button', { name: 'Run again' }).click();
    await page.getByRole('alert').waitFor();
  });
  assert.match(await page.getByRole('alert').innerText(), /pipeline file .* does not exist/);
  await rename(`${pipelineFile}.moved`, pipelineFile);
  await checkPage(page, console, 'a refused re-run');
  await page.close();
});
