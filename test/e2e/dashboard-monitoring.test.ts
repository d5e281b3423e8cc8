// The dashboard's monitoring, deployments and sign-in in a real browser (Debian's Chromium through
// playwright-core) against a real `loom server` with authentication on, over a project whose
// monitoring history was recorded by the real commands (`loom monitor labels load`, `loom monitor
// alerts check` on real flights traffic): drift and quality charts with their numbers, the alert
// and its action, the time range filtered by the server, per-slice quality computed on request, a
// canary decided by the real canary stage with its numbers, traffic, errors and latency per version
// and role from the log, a shadow's answers against the primary's, a rollback confirmed in the Deployments page and refused for a viewer token
// with the server's message, and signing in and out with an API token. Every page is checked for
// console errors and serious axe-core violations.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { versionOf } from '../../src/data/versions.js';
import { decideCanaryStage, startCanary, type CanaryStageResult } from '../../src/monitor/canary-stage.js';
import { decidedCheck } from '../support/canary-project.js';
import { loadLabels } from '../../src/monitor/label-loader.js';
import { readCodeVersion } from '../../src/pipeline/code-version.js';
import { ExampleStatistics, Examples } from '../../src/pipeline/artifact-types.js';
import { predictionLogLocation } from '../../src/platform/prediction-log-location.js';
import { queryRows, readSource, withDuckDB } from '../../src/data/duckdb.js';
import { ParquetPredictionSink } from '../../src/serve/prediction-sinks.js';
import { computeStatistics } from '../../src/validate/statistics.js';
import { launchChromium, testChromium } from '../support/chromium.js';
import { runLoom } from '../support/cli.js';
import { buildDashboardIfStale } from '../support/dashboard-build.js';
import { seriousViolations, startLoomServer, watchConsole, type RunningServer } from '../support/dashboard-project.js';
import { openTestPlatform } from '../support/databases.js';
import { FLIGHTS_PARQUET, makeTempDir, writeFlightsSlice } from '../support/flights.js';
import { DISTANCE_MOVED, evaluateMonitoredModel, monitoredModelProject, record, writeAlertRules } from '../support/monitored-model.js';

const chromiumPath = testChromium();
const skip = { skip: chromiumPath ? false : 'LOOM_TEST_CHROMIUM is not set; run `npm test` (it installs Debian chromium)' };
const START = Date.UTC(2026, 0, 5);
const DAY = 86_400_000;
// The README's screenshots, refreshed on request only (LOOM_UPDATE_SCREENSHOTS=1), as in dashboard.test.ts.
const SHOTS = process.env.LOOM_UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/dashboard/', import.meta.url)) : `${mkdtempSync(join(tmpdir(), 'loom-shots-'))}/`;
/** Where the dashboard keeps the signed-in token (web/dashboard/src/api.ts). */
const TOKEN_KEY = 'loom.token';
/** The March dataset version recorded below (a version is a content hash). */
const MARCH_VERSION = createHash('sha256').update('flights, March 2001, one row in 600').digest('hex');

let server: RunningServer;
let browser: Browser;
const tokens = { editor: '', viewer: '' };
/** The version of the data flights v1 was trained on; the March version is compared with it. */
let trainingVersion = '';
/** The canary stage's result on the third day's traffic, and what that traffic was. */
let canaryStage: CanaryStageResult;
const thirdDay = { primary: 0, canary: 0 };
/** The third day's shadow copies (v2 shadowing v1's first answers) and failed requests, logged after the canary was decided. */
const shadowDay = { compared: 0, meanDifference: 0, primary400: 2, canary500: 1 };
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  if (!chromiumPath) return;
  await buildDashboardIfStale();
  const dir = await makeTempDir((fn) => void cleanups.push(fn), 'loom-dashmon-');
  // Two days of real flights traffic logged for flights v1 (January, then March), evaluated so quality can be estimated.
  const project = await monitoredModelProject(dir, START, [1, 3]);
  try {
    await evaluateMonitoredModel(project, { slices: [{ columns: [{ feature: 'distance', boundaries: [800] }] }], minSliceSize: 10 });
    // Labels for the first day's first 40 requests, as `loom monitor labels load` stores them.
    const file = join(dir, 'labels.csv');
    await writeFile(file, `request_id,late\n${Array.from({ length: 40 }, (_, i) => `d0-${i},${i % 3 === 0 ? 1 : 0}`).join('\n')}\n`);
    const labels = await loadLabels(project.db.labels, predictionLogLocation(project.db.config), { model: 'flights', source: { file }, labelColumn: 'late' });
    assert.equal(labels.written, 40);
  } finally {
    await project.db.close();
  }
  // One alerting pass refreshes drift and quality from the log and fires the drift rule.
  await writeAlertRules(dir, [DISTANCE_MOVED, { name: 'auc-watch', metric: 'quality.estimated.auc', when: { below: 0 } }]);
  const check = await runLoom(['monitor', 'alerts', 'check'], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);

  // A second version holding champion (so it can roll back to v1), a deployment serving it, and two tokens.
  const db = await openTestPlatform(project.home);
  try {
    const v1 = (await db.registry.getModelVersion('flights', 1))!;
    await db.registry.createModelVersion({ modelName: 'flights', source: v1.source, artifactId: v1.artifactId, description: 'the same graph, registered again' });
    canaryStage = await canaryOnThirdDay(db);
    await db.registry.setAlias('flights', 'champion', 2, { actor: 'setup', reason: 'a newer version' });
    await db.deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion' }, { actor: 'setup', reason: 'serve the champion' });
    tokens.editor = (await db.tokens.createToken({ subject: 'erin', role: 'editor', createdBy: 'setup' })).secret;
    tokens.viewer = (await db.tokens.createToken({ subject: 'vic', role: 'viewer', createdBy: 'setup' })).secret;
    // A second dataset version, real March flights, with its statistics recorded, to compare with the training data.
    const examplesDir = await db.artifacts.stage();
    await mkdir(join(examplesDir, 'train'), { recursive: true });
    await writeFlightsSlice(Examples.files.split(examplesDir, 'train'), { months: [3], every: 600, format: 'parquet' });
    const statistics = await computeStatistics(Examples.files.split(examplesDir, 'train'));
    const examples = (await db.artifacts.commit(examplesDir)).uri;
    const [march] = await db.metadata.putArtifacts([{ typeName: Examples.name, uri: examples, fingerprint: MARCH_VERSION, properties: { splits: ['train'] } }]);
    const statsDir = await db.artifacts.stage();
    await writeFile(ExampleStatistics.files.split(statsDir, 'train'), JSON.stringify(statistics));
    const statsUri = (await db.artifacts.commit(statsDir)).uri;
    await record(db, 'statistics', [{ name: 'examples', id: march!.id }], { name: 'statistics', artifact: { typeName: ExampleStatistics.name, uri: statsUri, fingerprint: statsUri, properties: { splits: ['train'], rowCounts: { train: statistics.rowCount } } } });
    trainingVersion = versionOf((await db.metadata.getArtifacts([project.examplesId]))[0]!);
  } finally {
    await db.close();
  }
  await writeFile(join(dir, 'loom.config.json'), JSON.stringify({ auth: { required: true } }));
  server = await startLoomServer(dir);
  browser = await launchChromium(chromiumPath);
});

/**
 * v2 as a canary on half of a third day of real May flights, its answers reversed (it ranks them
 * backwards), every label arriving (late when the flight is long, so v1 ranks them perfectly),
 * then the real canary stage decides it over that day: rolled back, on measured AUC.
 */
async function canaryOnThirdDay(db: Awaited<ReturnType<typeof openTestPlatform>>): Promise<CanaryStageResult> {
  await startCanary(db, { model: 'flights', version: 2, weight: 0.5 });
  const flights = await withDuckDB((duck) =>
    queryRows(duck, `SELECT hour(date) AS hour, dayofweek(date) AS weekday, distance, origin, destination FROM (SELECT *, row_number() OVER () AS rn FROM ${readSource(FLIGHTS_PARQUET)}) WHERE month(date) = 5 AND rn % 2500 = 0 ORDER BY rn`),
  );
  const sink = new ParquetPredictionSink(db.layout.predictions);
  const day = START + 2 * DAY;
  await sink.write(
    flights.map((r, i) => {
      const canary = i % 2 === 1;
      thirdDay[canary ? 'canary' : 'primary']++;
      const score = 1 / (1 + Math.exp(-(Number(r.distance) - 1000) / 500));
      return {
        requestId: `d2-${i}`,
        modelName: 'flights',
        modelVersion: canary ? 2 : 1,
        role: canary ? ('canary' as const) : ('primary' as const),
        protocol: 'v2',
        features: JSON.stringify({ hour: Number(r.hour), weekday: Number(r.weekday), distance: Number(r.distance), origin: r.origin, destination: r.destination }),
        outputs: JSON.stringify({ probability: canary ? 1 - score : score }),
        // One request in ten on each side is slow: the median stays, the maximum shows it.
        latencyMs: (canary ? 3 : 1.5) * (i % 20 < 2 ? 10 : 1),
        loggedAt: day + i * 10_000,
      };
    }),
  );
  await sink.close();
  await db.labels.putLabels(flights.map((r, i) => ({ requestId: `d2-${i}`, modelName: 'flights', label: Number(r.distance) > 1000 ? 1 : 0 })), 'feedback');
  const result = decidedCheck(await decideCanaryStage(db, predictionLogLocation(db.config), { model: 'flights', from: day, to: day + DAY, policy: { minRows: 20, minLabelled: 20, tolerance: 0.01 }, codeVersion: readCodeVersion(process.cwd()) }));
  assert.equal(result.decision.outcome, 'rollback', result.decision.reason);
  // Then v2 as a shadow of v1's first ten answers of that day (its answers reversed), and requests that failed on each side.
  const later = new ParquetPredictionSink(db.layout.predictions);
  const primaries = flights.map((r, i) => ({ r, i })).filter(({ i }) => i % 2 === 0).slice(0, 10);
  const differences: number[] = [];
  const failed = (requestId: string, version: number, role: 'primary' | 'canary', status: number, errorCode: string, at: number) =>
    ({ requestId, modelName: 'flights', modelVersion: version, role, protocol: 'v2', features: '{}', outputs: '{}', latencyMs: 1, loggedAt: at, status, errorCode });
  await later.write([
    ...primaries.map(({ r, i }) => {
      const score = 1 / (1 + Math.exp(-(Number(r.distance) - 1000) / 500));
      differences.push(Math.abs(1 - 2 * score));
      return {
        requestId: `d2-${i}`,
        modelName: 'flights',
        modelVersion: 2,
        role: 'shadow' as const,
        protocol: 'v2',
        features: JSON.stringify({ hour: Number(r.hour), weekday: Number(r.weekday), distance: Number(r.distance), origin: r.origin, destination: r.destination }),
        outputs: JSON.stringify({ probability: 1 - score }),
        latencyMs: 4,
        loggedAt: day + i * 10_000 + 1,
      };
    }),
    ...Array.from({ length: shadowDay.primary400 }, (_, k) => failed(`d2-bad-${k}`, 1, 'primary', 400, 'INVALID_ARGUMENT', day + 3_600_000 + k)),
    ...Array.from({ length: shadowDay.canary500 }, (_, k) => failed(`d2-fail-${k}`, 2, 'canary', 500, 'INTERNAL', day + 3_600_000 + k)),
  ]);
  await later.close();
  shadowDay.compared = differences.length;
  shadowDay.meanDifference = differences.reduce((a, b) => a + b, 0) / differences.length;
  return result;
}

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const cleanup of cleanups) await cleanup();
});

/** A new tab on `path`, signed in with `token` (as the sign-in form leaves it) unless none is given. */
async function open(path: string, token?: string): Promise<{ page: Page; console: ReturnType<typeof watchConsole> }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const console = watchConsole(page);
  if (token) await page.addInitScript(`sessionStorage.setItem(${JSON.stringify(TOKEN_KEY)}, ${JSON.stringify(token)})`);
  await page.goto(`${server.url}${path}`);
  return { page, console };
}

async function checkPage(page: Page, console: ReturnType<typeof watchConsole>, what: string): Promise<void> {
  assert.deepEqual(await seriousViolations(page), [], `${what}: no serious axe-core violations`);
  assert.deepEqual(console.errors, [], `${what}: no console errors`);
}

test('monitoring: drift per feature over time, estimated beside measured quality, and the alert that fired with its action', skip, async () => {
  const { page, console } = await open('/monitoring?model=flights&version=1', tokens.viewer);
  await page.getByRole('heading', { name: 'Drift per feature' }).waitFor();
  // Two daily windows: each feature's chart draws a point per window and reference.
  const distance = page.getByRole('img', { name: /^Drift of distance: \d+ series, \d+ points/ });
  await distance.locator('canvas').waitFor();
  assert.ok(Number(await distance.getAttribute('data-points')) >= 2);
  const row = page.getByRole('row', { name: /^distance training/ }).first();
  assert.match(await row.innerText(), /of 2/);
  const auc = page.getByRole('table', { name: 'auc per window' });
  const rows = auc.locator('tbody tr');
  assert.equal(await rows.count(), 2, 'one row per daily window');
  const first = (await rows.nth(0).locator('td').allInnerTexts()).map((t) => t.trim());
  assert.match(first[0]!, /^0\.\d+|^1/, 'estimated for the first day');
  assert.match(first[1]!, /^0\.\d+|^1|undefined/, 'measured on its labels');
  assert.equal(first[2], '40', 'the labels it rests on');
  assert.equal((await rows.nth(1).locator('td').allInnerTexts())[1]!.trim(), '—', 'no label came for the second day');
  await page.getByRole('img', { name: /^auc: estimated and measured: 2 series/ }).locator('canvas').waitFor();
  const alert = page.getByRole('row', { name: /distance-moved/ });
  assert.match(await alert.innerText(), /drift\.training\.distance/);
  assert.match(await alert.innerText(), /log: done logged/);
  assert.equal(await page.getByRole('row', { name: /auc-watch/ }).count(), 0, 'the rule that did not fire is not listed');
  await checkPage(page, console, 'monitoring');
  await page.screenshot({ path: `${SHOTS}monitoring.png`, fullPage: true });
  await page.close();
});

/** Waits until `locator` matches `count` elements (the page refetches after a URL change), then asserts it. */
async function untilCount(locator: Locator, count: number): Promise<void> {
  for (let tries = 0; tries < 200 && (await locator.count()) !== count; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await locator.count(), count);
}

/** A `datetime-local` value (UTC, as the page reads it) for epoch ms. */
const utc = (ms: number) => new Date(ms).toISOString().slice(0, 16);

test('monitoring: the time range is applied by the server and kept in the URL; quality per slice is computed on request', skip, async () => {
  const { page, console } = await open('/monitoring?model=flights&version=1', tokens.viewer);
  const auc = page.getByRole('table', { name: 'auc per window' }).locator('tbody tr');
  await page.getByRole('heading', { name: 'Drift per feature' }).waitFor();
  assert.equal(await auc.count(), 2);
  // From the second day on: only the March window is left, and the alert about it stays.
  await page.getByLabel('From (UTC)').fill(utc(START + DAY));
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/from=/);
  await untilCount(auc, 1);
  assert.equal(new URL(page.url()).searchParams.get('from'), utc(START + DAY));
  assert.match(await page.getByRole('row', { name: /^distance training/ }).first().innerText(), / of 1(\s|$)/);
  await page.getByRole('row', { name: /distance-moved/ }).waitFor();
  // Back restores all time; a range before the alert's window drops the alert.
  await page.goBack();
  await untilCount(auc, 2);
  await page.goto(`${server.url}/monitoring?model=flights&version=1&to=${utc(START + DAY)}`);
  await page.getByText('No alert fired for version 1.').waitFor();
  assert.equal(await auc.count(), 1);

  // Per slice, all time: computed from the log and the labels when asked.
  await page.goto(`${server.url}/monitoring?model=flights&version=1`);
  await page.getByRole('button', { name: 'Compute quality per slice' }).click();
  const slices = page.getByRole('table', { name: 'Measured auc per slice and window (labelled rows)' });
  await slices.waitFor();
  assert.match(page.url(), /slices=1/);
  const response = await fetch(`${server.url}/api/loom/monitoring/flights/slices?version=1&window=daily`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
  const view = (await response.json()) as { windows: { start: number }[]; slices: { key: string; starts: number[]; labelled: number[]; sized: boolean[]; measured: Record<string, (number | null)[]> }[] };
  assert.deepEqual(view.slices.map((sl) => sl.key).sort(), ['distance:< 800', 'distance:>= 800'].sort());
  assert.equal(view.windows.length, 3, 'January, March and the third day (May)');
  // The first day's 40 labels split between the two slices; the third day's every row is labelled.
  const firstDay = view.slices.map((sl) => (sl.starts[0] === view.windows[0]!.start ? sl.labelled[0]! : 0));
  assert.equal(firstDay.reduce((a, b) => a + b, 0), 40);
  // On the third day every short flight is labelled on time: AUC is undefined on one class, not a number.
  const short = view.slices.find((sl) => sl.key === 'distance:< 800')!;
  const third = short.starts.indexOf(view.windows[2]!.start);
  assert.deepEqual([short.sized[third], short.measured.auc![third]], [true, null]);
  for (const slice of view.slices) {
    const cells = (await slices.getByRole('row', { name: new RegExp(`^${slice.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).locator('td').allInnerTexts()).slice(1);
    slice.starts.forEach((start, i) => {
      const cell = cells[view.windows.findIndex((w) => w.start === start)]!;
      const value = slice.measured.auc![i];
      assert.match(cell, new RegExp(`\\(${slice.labelled[i]}\\)$`), `${slice.key}: labelled rows`);
      if (!slice.sized[i]) assert.match(cell, /^too few labels/);
      else if (value === null) assert.match(cell, /^undefined/, 'AUC on a slice whose labels hold one class');
      else assert.ok(Math.abs(Number(cell.split(' ')[0]) - value) < 1e-4, `${slice.key}: ${cell} shows ${value}`);
    });
  }
  await page.getByRole('img', { name: /^auc per slice: 2 series/ }).locator('canvas').waitFor();
  await checkPage(page, console, 'monitoring, ranged and sliced');
  await page.screenshot({ path: `${SHOTS}monitoring-slices.png`, fullPage: true });
  await page.close();
});

test('deployments: the traffic split, the canary decision with the numbers it was decided on, requests, errors and latency per version and role over time, and shadow results', skip, async () => {
  const { page, console } = await open('/deployments', tokens.viewer);
  await page.getByRole('cell', { name: 'primary 100%' }).waitFor();
  const decisions = page.getByRole('table', { name: 'Canary against primary over the same window' });
  const decision = decisions.locator('tbody tr');
  await decision.first().waitFor();
  assert.equal(await decision.count(), 1);
  const [, primary, metric, canaryValue, primaryValue, rows, labelled, outcome, why] = (await decision.first().locator('td').allInnerTexts()).map((t) => t.trim());
  const { decision: decided } = canaryStage;
  assert.equal(await decision.first().locator('th').innerText(), 'v2');
  assert.equal(primary, 'v1');
  assert.equal(metric, `${decided.basis} ${decided.metric}`);
  assert.ok(Math.abs(Number(canaryValue) - decided.canaryValue!) < 1e-4 && Math.abs(Number(primaryValue) - decided.primaryValue!) < 1e-4, `${canaryValue} / ${primaryValue}`);
  assert.equal(rows, `${canaryStage.canary.rows} / ${canaryStage.primary.rows}`);
  assert.deepEqual([canaryStage.canary.rows, canaryStage.primary.rows], [thirdDay.canary, thirdDay.primary], 'each side is what was logged in its role');
  assert.equal(labelled, `${canaryStage.canary.labelled} / ${canaryStage.primary.labelled}`);
  assert.equal(outcome, 'rolled back');
  assert.equal(why, decided.reason);
  // The deployment history (as `loom deploy history` prints it) records the same decision: the canary taken out, naming the step.
  const history = await fetch(`${server.url}/api/loom/deployments/flights/history`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
  const records = ((await history.json()) as { deployments: { actor: string; reason: string }[] }).deployments;
  assert.ok(records.some((d) => d.actor === 'canary-decision' && d.reason.includes(`execution ${canaryStage.executionId}`) && d.reason.includes(decided.reason)));

  // Traffic per day: the third day's canary requests as logged, their median and slowest latency.
  const traffic = page.getByRole('table', { name: 'Traffic per window' });
  const canaryDay = traffic.getByRole('row', { name: new RegExp(`^${new Date(START + 2 * DAY).toISOString().slice(0, 10)} 00:00:00 v2 canary`) });
  await canaryDay.waitFor(); // the table fills when its request answers; allInnerTexts does not wait
  const [requests, logged, p50, p95, max, failed4xx, failed5xx, failedShare] = (await canaryDay.locator('td').allInnerTexts()).slice(1).map((t) => t.trim());
  assert.deepEqual([requests, logged, p50, max], [String(thirdDay.canary), String(thirdDay.canary), '3', '30']);
  assert.ok(Number(p95) > 3 && Number(p95) <= 30, `the slow tenth lifts the 95th percentile: ${p95}`);
  // The failed requests beside them: the canary's 500, and its share of the canary's requests that day.
  const share = (failed: number, answered: number) => `${Math.round((failed / (failed + answered)) * 1000) / 10}%`;
  assert.deepEqual([failed4xx, failed5xx, failedShare], ['0', String(shadowDay.canary500), share(shadowDay.canary500, thirdDay.canary)]);
  const primaryDay = traffic.getByRole('row', { name: new RegExp(`^${new Date(START + 2 * DAY).toISOString().slice(0, 10)} 00:00:00 v1 primary`) });
  assert.deepEqual((await primaryDay.locator('td').allInnerTexts()).slice(6).map((t) => t.trim()), [String(shadowDay.primary400), '0', share(shadowDay.primary400, thirdDay.primary)]);
  assert.equal(await traffic.getByRole('row', { name: / v1 primary/ }).count(), 3, 'v1 answered on each of the three days');
  // v1 primary, v2 canary and v2 shadow; the shadow's one day makes the fifth point.
  await page.getByRole('img', { name: /^Requests per window: 3 series, 5 points/ }).locator('canvas').waitFor();
  await page.getByRole('img', { name: /^Latency per window: 6 series/ }).locator('canvas').waitFor();
  await page.getByRole('img', { name: /^Failed requests per window: 3 series/ }).locator('canvas').waitFor();
  assert.doesNotMatch(await page.getByRole('region', { name: 'Traffic and latency of flights' }).innerText(), /not logged/);

  // The shadow against v1's answers of the same requests: rows compared, the score's mean difference, both latencies.
  const shadow = page.getByRole('table', { name: 'Shadow against served answers over the same requests' });
  const shadowRow = shadow.getByRole('row', { name: /shadow v2 vs v1 primary/ });
  await shadowRow.waitFor();
  assert.equal(await shadow.locator('tbody tr').count(), 1);
  // v1's ten answers took 1.5 ms but the first (15 ms): median 1.5, 95th percentile 1.5 + 0.55 * 13.5.
  const [, compared, shadowRequests, difference, shadowMs, servedMs] = (await shadowRow.locator('td').allInnerTexts()).map((t) => t.trim());
  assert.deepEqual([compared, shadowRequests, shadowMs, servedMs], [String(shadowDay.compared), String(shadowDay.compared), '4 / 4', '1.5000 / 8.9250']);
  assert.ok(Math.abs(Number(difference) - shadowDay.meanDifference) < 1e-4, `${difference} vs ${shadowDay.meanDifference}`);
  assert.equal(await shadow.locator('thead th').nth(4).innerText(), 'probability mean |difference|');
  await page.getByRole('img', { name: /^Shadow agreement and difference per window: 1 series/ }).locator('canvas').waitFor();
  // Hourly windows: in the URL, more windows than days.
  await page.getByLabel('Window', { exact: true }).selectOption('hourly');
  await page.waitForURL(/traffic=hourly/);
  await traffic.locator('tbody tr').nth(4).waitFor();
  await checkPage(page, console, 'deployments, canary and traffic');
  await page.screenshot({ path: `${SHOTS}deployments-traffic.png`, fullPage: true });
  await page.close();
});

test('sign-in: the app loads without a token, asks for one when the API answers 401, refuses a bad one with the server message, and signs out', skip, async () => {
  // The static files are public; the data is not.
  assert.equal((await fetch(`${server.url}/deployments`)).status, 200, 'a view URL opens the app shell');
  assert.equal((await fetch(`${server.url}/api/loom/deployments`)).status, 401, 'the data needs a token');
  const { page, console } = await open('/monitoring?model=flights');
  await console.expecting(401, async () => {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('API token').fill('loom_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
  });
  assert.match(await page.getByRole('alert').innerText(), /token/i, "the server's own message");
  assert.equal(await page.evaluate(`sessionStorage.getItem(${JSON.stringify(TOKEN_KEY)})`), null, 'a refused token is not kept');
  await checkPage(page, console, 'sign-in form');

  await page.getByLabel('API token').fill(tokens.viewer);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Drift per feature' }).waitFor();
  assert.match(await page.locator('header .session').innerText(), /vic \(viewer\)/);
  // A reload keeps the tab signed in: the token is in this tab's sessionStorage and sent on every call.
  await page.reload();
  await page.getByRole('heading', { name: 'Drift per feature' }).waitFor();
  await checkPage(page, console, 'signed in');
  await console.expecting(401, async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
  await page.close();
});

test('deployments: a viewer token is refused the rollback with the server message; an editor confirms it and the alias moves back', skip, async () => {
  const viewer = await open('/deployments', tokens.viewer);
  const card = viewer.page.locator('[data-alias="flights@champion"]');
  await card.getByRole('heading', { name: 'flights@champion → v2' }).waitFor();
  await viewer.page.getByRole('cell', { name: 'flights@champion' }).waitFor();
  await viewer.console.expecting(403, async () => {
    await card.getByRole('button', { name: 'Roll back champion…' }).click();
    await card.getByRole('button', { name: 'Confirm rollback' }).click();
    await card.getByRole('alert').waitFor();
  });
  assert.match(await card.getByRole('alert').innerText(), /vic \(viewer\) may not alias\.move/);
  await checkPage(viewer.page, viewer.console, 'deployments, refused');
  await viewer.page.close();

  const { page, console } = await open('/deployments', tokens.editor);
  const served = page.locator('[data-alias="flights@champion"]');
  await served.getByRole('heading', { name: 'flights@champion → v2' }).waitFor();
  await served.getByRole('button', { name: 'Roll back champion…' }).click();
  // Nothing moves until it is confirmed; Cancel leaves it as it was.
  await served.getByRole('button', { name: 'Cancel' }).click();
  await served.getByRole('button', { name: 'Roll back champion…' }).click();
  await served.getByRole('group', { name: 'Confirm the rollback of champion' }).waitFor();
  await served.getByRole('button', { name: 'Confirm rollback' }).click();
  await served.getByRole('heading', { name: 'flights@champion → v1' }).waitFor();
  // The heading and the history are two answers; the history's may come second.
  await served.getByRole('cell', { name: 'v2 → v1' }).waitFor();
  const newest = served.locator('tbody tr').first();
  assert.deepEqual((await newest.locator('td').allInnerTexts()).slice(1, 4), ['v2 → v1', 'rollback', 'erin'], 'recorded as the signed-in principal');
  const alias = await fetch(`${server.url}/api/2.0/mlflow/registered-models/alias?name=flights&alias=champion`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
  assert.equal(((await alias.json()) as { model_version: { version: string } }).model_version.version, '1', 'the registry itself moved back');
  await checkPage(page, console, 'deployments, rolled back');
  await page.screenshot({ path: `${SHOTS}deployments.png`, fullPage: true });
  await page.close();
});

test('datasets: March flights beside the training data, both versions\' statistics side by side and the drift of each feature', skip, async () => {
  const { page, console } = await open(`/datasets/${MARCH_VERSION}?split=train&against=${trainingVersion}`, tokens.viewer);
  const drift = page.getByRole('table', { name: `Drift of train against ${trainingVersion.slice(0, 12)}` });
  await drift.waitFor();
  const distance = drift.getByRole('row', { name: /^distance/ });
  assert.match(await distance.innerText(), /jensen_shannon\s+0\.\d+\s+0\.1\d*\s+(drifted|within threshold)/);
  assert.ok((await drift.locator('tbody tr').count()) >= 3, 'distance, origin and destination are in both versions');
  await page.getByRole('img', { name: /^Histogram of distance \(this version\)/ }).waitFor();
  await page.getByRole('img', { name: new RegExp(`^Histogram of distance \\(${trainingVersion.slice(0, 12)}\\)`) }).waitFor();
  await checkPage(page, console, 'dataset drift');
  await page.screenshot({ path: `${SHOTS}dataset-drift.png`, fullPage: true });
  await page.getByLabel('Compare with').selectOption('');
  await drift.waitFor({ state: 'detached' });
  await page.close();
});
