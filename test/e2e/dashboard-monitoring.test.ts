// The dashboard's monitoring, deployments and sign-in in a real browser (Debian's Chromium through
// playwright-core) against a real `loom server` with authentication on, over a project whose
// monitoring history was recorded by the real commands (`loom monitor labels load`, `loom monitor
// alerts check` on real flights traffic): drift and quality charts with their numbers, the alert
// and its action, a rollback confirmed in the Deployments page and refused for a viewer token
// with the server's message, and signing in and out with an API token. Every page is checked for
// console errors and serious axe-core violations.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { evaluationConfig } from '../../src/evaluate/config.js';
import { evaluateRegisteredModel } from '../../src/evaluate/evaluate-registered.js';
import { launchChromium, testChromium } from '../support/chromium.js';
import { runLoom, runProcess } from '../support/cli.js';
import { seriousViolations, startLoomServer, watchConsole, type RunningServer } from '../support/dashboard-project.js';
import { openTestPlatform } from '../support/databases.js';
import { makeTempDir } from '../support/flights.js';
import { monitoredModelProject } from '../support/monitored-model.js';

const chromiumPath = testChromium();
const skip = { skip: chromiumPath ? false : 'LOOM_TEST_CHROMIUM is not set; run `npm test` (it installs Debian chromium)' };
const START = Date.UTC(2026, 0, 5);
/** Where the dashboard keeps the signed-in token (web/dashboard/src/api.ts). */
const TOKEN_KEY = 'loom.token';

let server: RunningServer;
let browser: Browser;
const tokens = { editor: '', viewer: '' };
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  if (!chromiumPath) return;
  const built = await runProcess(process.execPath, [fileURLToPath(new URL('../../scripts/build-dashboard.mjs', import.meta.url))]);
  assert.equal(built.code, 0, built.stderr);
  const dir = await makeTempDir((fn) => void cleanups.push(fn), 'loom-dashmon-');
  // Two days of real flights traffic logged for flights v1 (January, then March), evaluated so quality can be estimated.
  const project = await monitoredModelProject(dir, START, [1, 3]);
  try {
    const config = evaluationConfig.parse({ labelColumn: 'delayed', decisionThreshold: 0.4, bootstrap: { resamples: 0 } });
    await evaluateRegisteredModel({ db: project.db, artifacts: project.artifacts }, { model: 'flights@champion', data: `#${project.examplesId}`, baseline: 'none', config });
  } finally {
    await project.db.close();
  }
  // Labels for the first day's first 40 requests; then one alerting pass refreshes drift and quality and fires the drift rule.
  await writeFile(join(dir, 'labels.csv'), `request_id,late\n${Array.from({ length: 40 }, (_, i) => `d0-${i},${i % 3 === 0 ? 1 : 0}`).join('\n')}\n`);
  const labels = await runLoom(['monitor', 'labels', 'load', 'flights', 'labels.csv', '--label', 'late'], { cwd: dir });
  assert.equal(labels.code, 0, labels.stderr);
  await writeFile(
    join(dir, 'loom-alerts.yaml'),
    `rules:
  - name: distance-moved
    model: flights
    metric: drift.training.distance
    window: daily
    when: { above: 0 }
    actions: [{ type: log }]
  - name: auc-watch
    model: flights
    metric: quality.estimated.auc
    window: daily
    when: { below: 0 }
    actions: [{ type: log }]
`,
  );
  const check = await runLoom(['monitor', 'alerts', 'check'], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);

  // A second version holding champion (so it can roll back to v1), a deployment serving it, and two tokens.
  const db = await openTestPlatform(project.home);
  try {
    const v1 = (await db.registry.getModelVersion('flights', 1))!;
    await db.registry.createModelVersion({ modelName: 'flights', source: v1.source, description: 'the same graph, registered again' });
    await db.registry.setAlias('flights', 'champion', 2, { actor: 'setup', reason: 'a newer version' });
    await db.deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion' }, { actor: 'setup', reason: 'serve the champion' });
    tokens.editor = (await db.tokens.createToken({ subject: 'erin', role: 'editor', createdBy: 'setup' })).secret;
    tokens.viewer = (await db.tokens.createToken({ subject: 'vic', role: 'viewer', createdBy: 'setup' })).secret;
  } finally {
    await db.close();
  }
  await writeFile(join(dir, 'loom.config.json'), JSON.stringify({ auth: { required: true } }));
  server = await startLoomServer(dir);
  browser = await launchChromium(chromiumPath);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const cleanup of cleanups) await cleanup();
});

/** A new tab on `path`, signed in with `token` (as the sign-in form leaves it) unless none is given. */
async function open(path: string, token?: string): Promise<{ page: Page; console: ReturnType<typeof watchConsole> }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const console = watchConsole(page);
  if (token) await page.addInitScript(([key, value]) => sessionStorage.setItem(key!, value!), [TOKEN_KEY, token]);
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
  await page.close();
});
