// The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
// `loom server` on a real project: every page is visited and its content asserted, an alias
// is moved and rolled back through the page, a refusal shows the server's message, back and
// forward work, runs are compared (a tune study as parallel coordinates), a pipeline run is
// run again, and no page logs a console error or has a serious axe-core violation.
// Screenshots of the main views are saved into docs/dashboard/ for the README.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { EvaluationReport } from '../../src/evaluate/report.js';
import { LocalArtifactStore } from '../../src/store/local-artifact-store.js';
import { launchChromium, testChromium } from '../support/chromium.js';
import { runLoom } from '../support/cli.js';
import { TUNE_TRIALS, makeDashboardProject, seriousViolations, startLoomServer, watchConsole, type DashboardProject, type RunningServer } from '../support/dashboard-project.js';
import { buildDashboardIfStale } from '../support/dashboard-build.js';
import { makeTempDir } from '../support/flights.js';

const chromiumPath = testChromium();
const skip = { skip: chromiumPath ? false : 'LOOM_TEST_CHROMIUM is not set; run `npm test` (it installs Debian chromium)' };
// The README's screenshots are refreshed on request (LOOM_UPDATE_SCREENSHOTS=1), so a test run
// leaves the working tree clean; otherwise they are still taken (rendering is exercised) into a temp folder.
const SHOTS = process.env.LOOM_UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/dashboard/', import.meta.url)) : `${mkdtempSync(join(tmpdir(), 'loom-shots-'))}/`;

let project: DashboardProject;
let server: RunningServer;
let browser: Browser;
let fairnessAudit: EvaluationReport & { evaluation: { artifactId: number } };
let registeredEvaluationUri: string;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  if (!chromiumPath) return;
  // The served files are the ones built from this checkout's sources.
  await buildDashboardIfStale();
  const dir = await makeTempDir((fn) => void cleanups.push(fn), 'loom-dashboard-');
  project = await makeDashboardProject(dir);
  // A fairness audit of version 1 across origin airports (`loom evaluate`), and the versions as
  // `loom models versions` lists them, naming the evaluation push registered version 1 with.
  const [audited, listed] = await Promise.all([
    runLoom(['evaluate', 'flights@1', '--baseline', 'none', '--fairness', 'origin', '--resamples', '0', '--json'], { cwd: dir }),
    runLoom(['models', 'versions', 'flights', '--json'], { cwd: dir }),
  ]);
  assert.equal(audited.code, 0, audited.stderr);
  fairnessAudit = JSON.parse(audited.stdout) as EvaluationReport & { evaluation: { artifactId: number } };
  registeredEvaluationUri = (JSON.parse(listed.stdout) as { items: { version: number; lineage: { evaluationUri: string } }[] }).items.find((v) => v.version === 1)!.lineage.evaluationUri;
  server = await startLoomServer(dir);
  // A second version of the model, registered through the MLflow API, so the alias can move and roll back.
  const got = await fetch(`${server.url}/api/2.0/mlflow/model-versions/get?name=flights&version=1`);
  assert.equal(got.status, 200, await got.clone().text());
  const v1 = (await got.json()) as { model_version: { source: string; run_id: string } };
  const created = await fetch(`${server.url}/api/2.0/mlflow/model-versions/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'flights', source: v1.model_version.source, run_id: v1.model_version.run_id, description: 'the same graph, registered again' }),
  });
  assert.equal(created.status, 200, await created.text());
  const deployed = await runLoom(['deploy', 'set', 'flights', '--alias', 'champion', '--canary', '2', '--weight', '0.2'], { cwd: dir });
  assert.equal(deployed.code, 0, deployed.stderr);
  await mkdir(SHOTS, { recursive: true });
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

/** No console errors and no serious accessibility violations on the page as it is now. */
async function checkPage(page: Page, console: ReturnType<typeof watchConsole>, what: string): Promise<void> {
  assert.deepEqual(await seriousViolations(page), [], `${what}: no serious axe-core violations`);
  assert.deepEqual(console.errors, [], `${what}: no console errors`);
}

test('experiments: the runs table filters with MLflow syntax, sorts, shows the refusal of a bad filter, and a run draws its curves', skip, async () => {
  const { page, console } = await open('/');
  await page.waitForURL(/\/experiments$/);
  await page.getByRole('link', { name: 'flights' }).click();
  await page.getByRole('heading', { name: 'flights' }).waitFor();
  const table = page.locator('table.runs');
  await table.getByRole('link', { name: /^train/ }).waitFor();
  assert.ok(await table.getByRole('button', { name: 'eval_accuracy' }).isVisible(), 'metric columns');
  await checkPage(page, console, 'experiment runs');
  await page.screenshot({ path: `${SHOTS}experiment-runs.png` });

  await page.getByLabel('Filter runs').fill("metrics.eval_accuracy > 0 and attributes.status = 'FINISHED'");
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/filter=metrics.eval_accuracy/);
  await table.getByRole('link', { name: /^train/ }).waitFor();
  await page.getByLabel('Filter runs').fill('metrics.eval_accuracy > 2');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('0 runs on this page').waitFor();
  await console.expecting(400, async () => {
    await page.getByLabel('Filter runs').fill('metrics.eval_accuracy >>> 1');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('alert').waitFor();
  });
  assert.match(await page.getByRole('alert').innerText(), /eval_accuracy|parse|expected/i, "the server's own message");
  // Back walks the filters in reverse: the URL holds the view.
  await page.goBack();
  await page.getByText('0 runs on this page').waitFor();
  await page.goBack();
  await table.getByRole('link', { name: /^train/ }).waitFor();
  await page.goForward();
  await page.getByText('0 runs on this page').waitFor();
  await page.getByRole('button', { name: 'Clear' }).click();
  await table.getByRole('button', { name: 'eval_log_loss' }).click();
  await page.waitForURL(/order=metrics/);
  assert.equal(await table.locator('th[aria-sort="descending"]').innerText(), 'eval_log_loss ▼');

  await table.getByRole('link', { name: /^train/ }).click();
  await page.getByRole('heading', { name: 'Metric curves' }).waitFor();
  const chart = page.getByRole('img', { name: /^eval_log_loss: 1 series, 2 points/ });
  await chart.locator('canvas').waitFor();
  assert.ok(await page.getByRole('rowheader', { name: 'algorithm' }).isVisible(), 'the parameters');
  await checkPage(page, console, 'run detail');
  await page.screenshot({ path: `${SHOTS}run-detail.png` });
  await page.close();
});

test('a running run’s curves grow as it logs: the page polls the run and reads the curves again when it shows new points', skip, async () => {
  const mlflow = async (path: string, body: unknown): Promise<any> => {
    const response = await fetch(`${server.url}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(response.status, 200, await response.clone().text());
    return response.json();
  };
  const { experiment_id: experimentId } = await mlflow('experiments/create', { name: 'live curves' });
  const { run } = await mlflow('runs/create', { experiment_id: experimentId, run_name: 'live', start_time: Date.now() });
  const point = (step: number) => ({ key: 'live_loss', value: 1 / (step + 1), timestamp: Date.now(), step });
  await mlflow('runs/log-batch', { run_id: run.info.run_id, metrics: [point(0)] });
  const { page, console } = await open(`/experiments/${experimentId}/runs/${run.info.run_id}`);
  await page.getByRole('img', { name: /^live_loss: 1 series, 1 points/ }).locator('canvas').waitFor();
  await mlflow('runs/log-batch', { run_id: run.info.run_id, metrics: [point(1), point(2)] });
  // The poll runs every 3 s; the page is not reloaded.
  await page.getByRole('img', { name: /^live_loss: 1 series, 3 points/ }).locator('canvas').waitFor({ timeout: 20_000 });
  await checkPage(page, console, 'running run');
  await page.close();
});

test('models: versions, alias history and lineage; an alias moved and rolled back through the page; a refused rollback shows why', skip, async () => {
  const { page, console } = await open('/models');
  await page.getByRole('link', { name: 'flights' }).click();
  const champion = page.locator('[data-alias="champion"]');
  await champion.getByRole('heading', { name: 'champion → v1' }).waitFor();
  await page.getByRole('heading', { name: 'Lineage of v1' }).waitFor();
  await page.locator('.flow .step', { hasText: 'train' }).first().waitFor();
  assert.equal(await page.locator('.flow .data').count(), 1, 'the data snapshot the model came from');
  await checkPage(page, console, 'model');

  await page.getByLabel('to version').selectOption('2');
  await page.getByRole('button', { name: 'Move alias' }).click();
  await champion.getByRole('heading', { name: 'champion → v2' }).waitFor();
  await champion.getByRole('cell', { name: 'v1 → v2' }).waitFor();
  await page.screenshot({ path: `${SHOTS}model.png`, fullPage: true });

  await champion.getByRole('button', { name: 'Roll back champion…' }).click();
  await champion.getByRole('button', { name: 'Confirm rollback' }).click();
  await champion.getByRole('heading', { name: 'champion → v1' }).waitFor();
  await champion.getByRole('cell', { name: 'rollback', exact: true }).waitFor();
  const served = (await (await fetch(`${server.url}/api/2.0/mlflow/registered-models/alias?name=flights&alias=champion`)).json()) as { model_version: { version: string } };
  assert.equal(served.model_version.version, '1', 'the registry itself moved back');

  // Nothing held the alias before version 1: the server refuses, and the page says so.
  await console.expecting(412, async () => {
    await champion.getByRole('button', { name: 'Roll back champion…' }).click();
    await champion.getByRole('button', { name: 'Confirm rollback' }).click();
    await champion.getByRole('alert').waitFor();
  });
  assert.match(await champion.getByRole('alert').innerText(), /roll|back|earlier|previous/i);
  await checkPage(page, console, 'model after rollback');

  await page.getByRole('button', { name: 'Lineage of v2' }).click();
  await page.waitForURL(/version=2/);
  await page.goBack();
  await page.getByRole('heading', { name: 'Lineage of v1' }).waitFor();
  await page.close();
});

test("model evaluation: the slice table shows the recorded evaluation's numbers and intervals, the model card its checks and file; a version without one says so", skip, async () => {
  // The evaluation push registered version 1 with, read from its artifact. The fairness audit made
  // in `before` is newer: the page still opens on the registered one.
  const audit = fairnessAudit;
  const evaluationDir = await new LocalArtifactStore(join(project.dir, '.loom', 'artifacts')).localPath(registeredEvaluationUri);
  const report = JSON.parse(await readFile(join(evaluationDir, 'evaluation.json'), 'utf8')) as EvaluationReport;

  const { page, console } = await open('/models/flights?version=1');
  const section = page.locator('section[aria-labelledby="evaluation-h"]');
  const byOrigin = section.getByRole('table', { name: 'auc by origin' });
  await byOrigin.locator('tbody tr').first().waitFor();
  const close = (shown: string, recorded: number | null | undefined, what: string) => assert.ok(recorded != null && Math.abs(Number(shown.replaceAll(',', '')) - recorded) < 1e-4, `${what}: ${shown} shown, ${recorded} recorded`);
  const rows = await byOrigin.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent ?? '')));
  const recorded = report.slices.filter((s) => s.spec === 'origin');
  assert.equal(rows.length, recorded.length, 'a row per recorded slice');
  for (const [i, slice] of recorded.entries()) {
    const [label, count, auc, interval] = rows[i]!;
    assert.equal(label, Object.entries(slice.values).map(([f, v]) => `${f} = ${v}`).join(', '));
    assert.equal(count, slice.exampleCount.toLocaleString('en'));
    close(auc!, slice.metrics.auc, `${slice.key} auc`);
    const [lower, upper] = interval!.slice(1, -1).split(', ');
    close(lower!, slice.confidenceIntervals!.auc!.lower, `${slice.key} lower`);
    close(upper!, slice.confidenceIntervals!.auc!.upper, `${slice.key} upper`);
  }
  const overall = section.getByRole('table', { name: 'Overall metrics' });
  close(await overall.getByRole('row', { name: /^log_loss/ }).getByRole('cell').first().innerText(), report.metrics.log_loss, 'overall log loss');
  assert.match(await section.innerText(), report.blessing.blessed ? /BLESSED/ : /NOT BLESSED/);
  await section.screenshot({ path: `${SHOTS}model-evaluation.png` });
  const card = page.getByRole('region', { name: 'Model card' });
  await card.getByText(/threshold checks behind the blessing/).click();
  assert.equal(await card.getByRole('table', { name: 'Threshold checks' }).locator('tbody tr').count(), report.thresholds.length, 'every check behind the blessing');
  const markdown = decodeURIComponent((await card.getByRole('link', { name: /Download the model card/ }).getAttribute('href'))!.replace(/^data:text\/markdown;charset=utf-8,/, ''));
  assert.equal(markdown, await readFile(join(evaluationDir, 'model_card.md'), 'utf8'), 'the recorded card');
  await checkPage(page, console, 'model evaluation');

  // Another slice metric: the choice is in the URL, the table follows it.
  await section.getByLabel('Slice metric').selectOption('log_loss');
  await page.waitForURL(/slice_metric=log_loss/);
  const lossRows = section.getByRole('table', { name: 'log_loss by hour' }).locator('tbody tr');
  await lossRows.first().waitFor();
  close(await lossRows.first().locator('td').nth(1).innerText(), report.slices.find((s) => s.spec === 'hour')!.metrics.log_loss, 'first hour log loss');
  // The fairness audit: each origin's rates and the disparities, as `loom evaluate` recorded them.
  await section.getByLabel('Evaluation').selectOption(String(audit.evaluation.artifactId));
  await page.waitForURL(new RegExp(`evaluation=${audit.evaluation.artifactId}`));
  const groups = section.getByRole('table', { name: 'Rates by group of origin' });
  await groups.locator('tbody tr').first().waitFor();
  const fairness = (audit.fairness as { report: { byGroup: Record<string, Record<string, number>>; disparities: Record<string, number> } }[])[0]!.report;
  assert.equal(await groups.locator('tbody tr').count(), Object.keys(fairness.byGroup).length, 'a row per origin');
  for (const [group, rates] of Object.entries(fairness.byGroup).slice(0, 3)) {
    close(await groups.getByRole('row', { name: new RegExp(`^${group} `) }).locator('td').nth(1).innerText(), rates.selection_rate, `${group} selection rate`);
  }
  const disparities = section.getByRole('table', { name: 'Disparities between the groups of origin' });
  close(await disparities.getByRole('row', { name: /^demographic_parity_difference/ }).locator('td').first().innerText(), fairness.disparities.demographic_parity_difference, 'demographic parity difference');
  await checkPage(page, console, 'fairness');

  // Version 2 was registered by URI alone: nothing recorded, and the page says so.
  await page.getByRole('button', { name: 'Lineage of v2' }).click();
  await page.getByRole('heading', { name: 'Evaluation of v2' }).waitFor();
  await section.getByText('No evaluation is recorded for v2').waitFor();
  await page.close();
});

test('lineage both ways: a step opens its pipeline run, the data snapshot its dataset page, which links back to the models made from it', skip, async () => {
  const { page, console } = await open('/models/flights?version=1');
  const flow = page.locator('.flow');
  assert.match(await flow.locator('.deployment').innerText(), /primary \(flights@champion\)/, 'the deployment serving the champion');
  await flow.getByRole('link', { name: 'train', exact: true }).click();
  await page.waitForURL(new RegExp(`/pipelines/${project.completeRunId}\\?step=train$`));
  await page.getByRole('heading', { name: /^Step train/ }).waitFor();
  await page.goBack();
  await flow.locator('.data').getByRole('link').click();
  await page.waitForURL(/\/datasets\/[0-9a-f]+$/);
  const made = page.getByRole('region', { name: 'Models made from this version' });
  await made.getByRole('link', { name: 'delays-tuned v1' }).waitFor();
  await checkPage(page, console, 'dataset with its models');
  await made.getByRole('link', { name: 'flights v1' }).click();
  await page.waitForURL(/\/models\/flights\?version=1$/);
  await page.getByRole('heading', { name: 'Lineage of v1' }).waitFor();
  await page.close();
});

test('pipelines: the runs list, a failed run as a graph with the error and fix of its failed step, and a step’s log', skip, async () => {
  const { page, console } = await open('/pipelines');
  await page.getByRole('link', { name: project.failedRunId }).waitFor();
  await page.getByLabel('State').selectOption('FAILED');
  await page.waitForURL(/state=FAILED/);
  // The server filtered by state: the complete run leaves the list.
  await page.getByRole('link', { name: project.completeRunId }).waitFor({ state: 'detached' });
  await page.getByRole('link', { name: project.failedRunId }).click();
  await page.getByRole('button', { name: /^validate\s*FAILED/ }).waitFor();
  assert.ok(await page.getByRole('button', { name: /^ingest\s*CACHED/ }).isVisible());
  assert.ok(await page.getByRole('button', { name: /^push\s*CANCELED/ }).isVisible());
  const alert = page.getByRole('alert');
  assert.match(await alert.innerText(), /does not match the schema/);
  assert.match(await alert.innerText(), /fix: .*edit the schema/);
  await checkPage(page, console, 'pipeline run');
  await page.screenshot({ path: `${SHOTS}pipeline-run.png`, fullPage: true });
  await page.getByRole('button', { name: /^schema\s*COMPLETE/ }).press('Enter');
  await page.getByRole('heading', { name: /^Step schema/ }).waitFor();
  // A cached step ran nothing, so it logged nothing.
  await page.getByRole('button', { name: /^ingest\s*CACHED/ }).press('Enter');
  await page.getByRole('heading', { name: /^Step ingest/ }).waitFor();
  await page.getByText('no log lines').waitFor();
  await page.close();

  const complete = await open(`/pipelines/${project.completeRunId}`);
  await complete.page.getByRole('button', { name: /^push\s*COMPLETE/ }).waitFor();
  assert.equal(await complete.page.getByRole('alert').count(), 0);
  // The ingest step that ran: its executor's own line, as `loom run` printed it, from the stored log.
  await complete.page.getByRole('button', { name: /^ingest\s*COMPLETE/ }).press('Enter');
  const log = complete.page.getByLabel('Log of ingest');
  await log.waitFor();
  assert.match(await log.innerText(), /^ingest: span \d+, \d+ train and \d+ eval rows.*, version [0-9a-f]{12}$/m);
  await checkPage(complete.page, complete.console, 'pipeline run with a step log');
  await complete.page.close();
});

test('datasets: versions, statistics histograms and top values, and the anomalies found', skip, async () => {
  const { page, console } = await open('/datasets');
  await page.locator('tbody tr').first().getByRole('link').first().click();
  await page.getByRole('heading', { name: 'Statistics' }).waitFor();
  await page.getByRole('img', { name: /^Histogram of distance/ }).waitFor();
  assert.ok(await page.getByRole('table', { name: 'Top values of origin' }).isVisible());
  assert.ok((await page.getByRole('cell', { name: 'unseen categories' }).count()) >= 1, 'the anomalies of the narrowed schema');
  await page.getByLabel('Split').selectOption('eval');
  await page.waitForURL(/split=eval/);
  await checkPage(page, console, 'dataset');
  await page.screenshot({ path: `${SHOTS}dataset.png`, fullPage: true });
  await page.close();
});

test('deployments and monitoring: the live deployment with its canary, and no invented monitoring data', skip, async () => {
  const { page, console } = await open('/deployments');
  await page.getByRole('cell', { name: 'flights@champion' }).waitFor();
  await page.getByRole('cell', { name: /flights@2 \(20%/ }).waitFor();
  await page.getByRole('button', { name: 'history of flights' }).click();
  await page.getByRole('heading', { name: 'History of flights' }).waitFor();
  await checkPage(page, console, 'deployments');
  await page.getByRole('link', { name: 'Monitoring' }).click();
  await page.getByText('No monitoring data yet').waitFor();
  await checkPage(page, console, 'monitoring');
  assert.equal((await page.request.get(`${server.url}/models/flights`)).status(), 200, 'a shared link opens the app');
  assert.equal((await page.request.get(`${server.url}/no/such/view`)).status(), 404, 'other paths keep the API 404');
  await page.close();
});

test('runs ticked in the table open side by side; a tune study shows its trials as parallel coordinates', skip, async () => {
  const { page, console } = await open('/experiments');
  await page.getByRole('link', { name: 'flights' }).click();
  const table = page.locator('table.runs');
  // A tick is kept in the URL: the router commits it a moment after the click (check() would
  // read the box before that), so each click waits for its box to show the tick.
  for (const name of ['Select trial-0 to compare', 'Select trial-1 to compare']) {
    await table.getByRole('checkbox', { name }).click();
    await table.getByRole('checkbox', { name, checked: true }).waitFor();
  }
  await page.waitForURL(/selected=\w+(%2C|,)\w+/);
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

  // The tune step's tracking run is the study: its page links to all its trials.
  await page.goBack();
  await table.getByRole('link', { name: /^tune-/ }).click();
  await page.getByRole('link', { name: /its trials side by side/ }).click();
  await page.getByRole('heading', { name: /^Tuning study tune-/ }).waitFor();
  const study = page.getByRole('img', { name: new RegExp(`^Parallel coordinates of ${TUNE_TRIALS} runs: learningRate, numLeaves against holdout_log_loss`) });
  await study.waitFor();
  assert.equal(await study.locator('path.pc-line').count(), TUNE_TRIALS, 'a line per trial');
  assert.equal((await study.locator('path.pc-line').first().getAttribute('d'))!.split('L').length, 3, 'each line crosses both parameter axes and the metric axis');
  await checkPage(page, console, 'tuning study');
  await page.screenshot({ path: `${SHOTS}tuning-study.png`, fullPage: true });
  await page.close();
});

test('a pipeline run runs again from its page: the new run opens with its steps; a refusal shows the server’s message', skip, async () => {
  const { page, console } = await open(`/pipelines/${project.tunedRunId}`);
  await page.getByRole('button', { name: /^tune\s*COMPLETE/ }).waitFor();
  // Nothing starts before the confirmation; Cancel leaves everything as it was.
  const runsNow = async () => ((await (await fetch(`${server.url}/api/loom/pipeline-runs`)).json()) as { runs: { runId: string }[] }).runs.length;
  const before = await runsNow();
  await page.getByRole('button', { name: 'Run again…' }).click();
  const confirmation = page.getByRole('group', { name: `Confirm running ${project.tunedRunId} again` });
  await confirmation.waitFor();
  assert.match(await confirmation.innerText(), /Run this pipeline again from its pipeline file/);
  await checkPage(page, console, 'the re-run confirmation');
  await confirmation.getByRole('button', { name: 'Cancel' }).click();
  await confirmation.waitFor({ state: 'detached' });
  assert.equal(await runsNow(), before, 'no run started before the confirmation');
  assert.equal(decodeURIComponent(new URL(page.url()).pathname), `/pipelines/${project.tunedRunId}`, 'still on the run');
  await page.getByRole('button', { name: 'Run again…' }).click();
  await confirmation.getByRole('button', { name: 'Confirm re-run' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/pipelines/') && !url.pathname.endsWith(project.tunedRunId));
  const newRun = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
  // The same file, run now: the schema was narrowed since the tuned run, so validate fails and tune never starts.
  await page.getByRole('button', { name: /^ingest\s*CACHED/ }).waitFor();
  await page.getByRole('button', { name: /^tune\s*CANCELED/ }).waitFor({ timeout: 180_000 }); // a whole pipeline run: minutes on a loaded CI machine
  assert.ok(await page.getByRole('button', { name: /^validate\s*FAILED/ }).isVisible());
  const listed = (await (await fetch(`${server.url}/api/loom/pipeline-runs`)).json()) as { runs: { runId: string }[] };
  assert.ok(listed.runs.some((r) => r.runId === newRun), 'the new run is recorded');
  await checkPage(page, console, 'the re-run');
  await page.screenshot({ path: `${SHOTS}pipeline-rerun.png`, fullPage: true });

  // The pipeline file is gone: the server refuses, and the page shows what it said.
  await rename(project.tunedPipelineFile, `${project.tunedPipelineFile}.moved`);
  try {
    await console.expecting(404, async () => {
      await page.getByRole('button', { name: 'Run again…' }).click();
      await page.getByRole('button', { name: 'Confirm re-run' }).click();
      await page.locator('.rerun').getByRole('alert').waitFor();
    });
    assert.match(await page.locator('.rerun').getByRole('alert').innerText(), /pipeline file .* does not exist/);
  } finally {
    await rename(`${project.tunedPipelineFile}.moved`, project.tunedPipelineFile);
  }
  await checkPage(page, console, 'a refused re-run');
  await page.close();
});
