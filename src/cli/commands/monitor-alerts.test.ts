import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXIT_CODE } from '../../core/errors.js';
import { onlineQuality } from '../../monitor/quality-run.js';
import { modelLineage } from '../../queries/lineage.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { fileURLToPath } from 'node:url';
import { runCompiledLoom, runLoom } from '../../../test/support/cli.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { refuseRetrainRecords } from '../../../test/support/refuse-writes.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { DISTANCE_MOVED, evaluateMonitoredModel, monitoredModelProject, writeAlertRules } from '../../../test/support/monitored-model.js';

const START = Date.UTC(2026, 0, 5);

test('loom monitor alerts check refreshes the history from the log, fires a breached rule once, and alerts ls shows it', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, START, [1, 3]);
  await project.db.close();
  // March against January training: distance drifts by some measure above 0; a bound no figure reaches never fires.
  await writeAlertRules(dir, [DISTANCE_MOVED, { name: 'never', metric: 'drift.training.distance', when: { above: 1000000 } }]);
  const check = await runCompiledLoom(['monitor', 'alerts', 'check', '--json'], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  const results = JSON.parse(check.stdout) as { rule: string; fired: boolean; summary: string; actions?: { type: string; status: string }[] }[];
  assert.deepEqual(results.map((r) => [r.rule, r.fired]), [['distance-moved', true], ['never', false]]);
  assert.deepEqual(results[0]!.actions, [{ type: 'log', status: 'done', detail: 'logged' }]);
  assert.match(results[0]!.summary, /flights v1: drift.training.distance > 0/);

  const again = await runCompiledLoom(['monitor', 'alerts', 'check', '--no-refresh', '--json'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match((JSON.parse(again.stdout) as { summary: string }[])[0]!.summary, /already fired/);

  const ls = await runCompiledLoom(['monitor', 'alerts', 'ls', '--json'], { cwd: dir });
  assert.equal(ls.code, 0, ls.stderr);
  const alerts = JSON.parse(ls.stdout) as { rule: string; modelVersion: number; metric: string }[];
  assert.deepEqual(alerts.map((a) => [a.rule, a.modelVersion, a.metric]), [['distance-moved', 1, 'drift.training.distance']]);

  await writeFile(join(dir, 'bad.yaml'), 'rules:\n  - name: x\n    model: flights\n    metric: accuracy\n    when: { above: 1 }\n    actions: [{ type: log }]\n');
  const bad = await runCompiledLoom(['monitor', 'alerts', 'check', '--rules', 'bad.yaml'], { cwd: dir });
  assert.equal(bad.code, EXIT_CODE.INVALID_ARGUMENT);
  assert.match(bad.stderr, /rules\[0\]\.metric/);
});

test('a rule on estimated AUC fires: loom monitor alerts check refreshes the online quality and keeps it in the history', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, START, [1, 3]);
  try {
    await evaluateMonitoredModel(project);
  } finally {
    await project.db.close();
  }
  // An AUC is at most 1 and this model's is above 0.5: the first rule breaches on every window, the second on none.
  await writeAlertRules(dir, [
    { name: 'auc-short-of-perfect', metric: 'quality.estimated.auc', when: { below: 1 }, for: 2 },
    { name: 'auc-collapsed', metric: 'quality.estimated.auc', when: { below: 0.5 } },
  ]);
  const check = await runCompiledLoom(['monitor', 'alerts', 'check', '--json'], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  const results = JSON.parse(check.stdout) as { rule: string; fired: boolean; summary: string }[];
  assert.deepEqual(results.map((r) => [r.rule, r.fired]), [['auc-short-of-perfect', true], ['auc-collapsed', false]]);

  const db = await openTestPlatform(project.home);
  try {
    const expected = await onlineQuality(db, predictionLogLocation(db.config), { ref: 'flights@champion', window: { kind: 'daily' } });
    const kept = (await db.monitorHistory.qualityHistory({ model: 'flights' })).filter((r) => r.kind === 'estimated' && r.metric === 'auc');
    assert.deepEqual(kept.map((r) => r.value), expected.windows.map((w) => w.estimated.auc));
    // The summary names the rule's metric and both windows' estimated AUC, as recorded.
    assert.match(results[0]!.summary, new RegExp(`flights v1: quality.estimated.auc < 1 in 2 window\\(s\\) in a row: ${kept.map((r) => String(r.value).replace('.', '\\.')).join(', ')}`));
    assert.deepEqual(await db.monitorHistory.driftHistory({ model: 'flights' }), [], 'no rule watches drift, so no drift pass ran');
  } finally {
    await db.close();
  }
});

const src = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../${path}`, import.meta.url)));

/** A retraining pipeline of one step that writes a file: enough to be started, run and recorded. */
const RETRAIN_PIPELINE = `import { z } from ${JSON.stringify(import.meta.resolve('zod'))};
import { writeFile } from 'node:fs/promises';
import { artifactType } from ${src('pipeline/artifact-types.ts')};
import { defineComponent } from ${src('pipeline/component.ts')};
import { definePipeline } from ${src('pipeline/dsl.ts')};
const Note = artifactType({ name: 'RetrainNote', description: 'a note', properties: {}, files: {} });
const write = defineComponent({
  name: 'write-note', version: '1', description: 'writes a note', inputs: {}, outputs: { note: Note }, parameters: z.object({}),
  async execute({ outputs }) { await writeFile(outputs.note + '/note.txt', 'retrained'); return { properties: { note: {} } }; },
});
export default definePipeline('retrain', (p) => { p.step('write', write, {}); });
`;

/** A retraining pipeline that starts and then fails: its step (another component, so no cache hit) throws. */
const FAILING_PIPELINE = RETRAIN_PIPELINE.replace("name: 'write-note'", "name: 'fail-note'").replace("await writeFile(outputs.note + '/note.txt', 'retrained'); return", "throw new Error('the training data is gone'); return");

test('the lineage of the version an alert is about names the retraining run it started, the run that started and failed, and why another failed to start', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, START, [1, 3]);
  await project.db.close();
  await writeFile(join(dir, 'retrain.ts'), RETRAIN_PIPELINE);
  await writeFile(join(dir, 'failing.ts'), FAILING_PIPELINE);
  const rule = (name: string, pipeline: string) =>
    [`  - name: ${name}`, '    model: flights', '    metric: drift.training.distance', '    window: daily', '    when: { above: 0 }', `    actions: [{ type: retrain, pipeline: ${pipeline} }]`].join('\n');
  await writeFile(join(dir, 'loom-alerts.yaml'), `rules:\n${rule('retrains', 'retrain.ts')}\n${rule('retrains-nothing', 'missing.ts')}\n${rule('retrains-failing', 'failing.ts')}\n`);
  const check = await runLoom(['monitor', 'alerts', 'check', '--json'], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  let runId: string | undefined;
  let failedRunId: string | undefined;
  const results = JSON.parse(check.stdout) as { rule: string; executionId: number; actions: { status: string; detail: string }[] }[];
  assert.deepEqual(results.map((r) => [r.rule, r.actions.map((a) => a.status)]), [['retrains', ['done']], ['retrains-nothing', ['failed']], ['retrains-failing', ['failed']]]);

  // The lineage answer (what `loom lineage --json` and the API give) names the run, and the run names the alert.
  const db = await openTestPlatform(project.home);
  try {
    const { decisions } = await modelLineage(db, 'flights@1', 30);
    const retrainsOf = (executionId: number) => decisions.find((d) => d.executionId === executionId)?.retrains;
    const [started] = retrainsOf(results[0]!.executionId) ?? [];
    assert.ok(started?.status === 'started', JSON.stringify(started));
    assert.equal(started.pipeline, 'retrain.ts');
    assert.match(results[0]!.actions[0]!.detail, new RegExp(`run ${started.runId}$`));
    const run = await db.metadata.findContext('pipeline_run', started.runId);
    assert.deepEqual(run?.properties.triggeredBy, { alertExecutionId: results[0]!.executionId });
    runId = started.runId;
    const [failed] = retrainsOf(results[1]!.executionId) ?? [];
    assert.ok(failed?.status === 'failed', JSON.stringify(failed));
    assert.equal(failed.pipeline, 'missing.ts');
    assert.match(failed.reason, /missing\.ts/);
    assert.equal(failed.code, 'NOT_FOUND', "the loader's code and fix are kept beside its message");
    assert.match(String(failed.fix), /give the path/);
    assert.equal(failed.runId, undefined, 'no run started');
    // A run that started and then failed is still named, beside why it failed.
    const [broke] = retrainsOf(results[2]!.executionId) ?? [];
    assert.ok(broke?.status === 'failed', JSON.stringify(broke));
    assert.match(broke.reason, /the training data is gone/);
    assert.ok(broke.runId, 'the failed run is named');
    const brokeRun = await db.metadata.findContext('pipeline_run', broke.runId);
    assert.deepEqual(brokeRun?.properties.triggeredBy, { alertExecutionId: results[2]!.executionId });
    assert.match(results[2]!.actions[0]!.detail, new RegExp(`run ${broke.runId} failed: .*the training data is gone`));
    failedRunId = broke.runId;
  } finally {
    await db.close();
  }
  const text = await runCompiledLoom(['lineage', 'flights@1'], { cwd: dir });
  assert.match(text.stdout, new RegExp(`retrain retrain\\.ts: run ${String(runId)} started`));
  assert.match(text.stdout, /retrain missing\.ts failed: .*missing\.ts.* \[NOT_FOUND\] \(fix: give the path/);
  assert.match(text.stdout, new RegExp(`retrain failing\\.ts: run ${String(failedRunId)} failed: .*the training data is gone`));
});

test('loom monitor alerts check prints the pass and the run it started when the database refuses to record it, with a warning and no error', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, START, [1, 3]);
  await refuseRetrainRecords(project.db.config.database);
  await project.db.close();
  await writeFile(join(dir, 'retrain.ts'), RETRAIN_PIPELINE);
  await writeFile(join(dir, 'loom-alerts.yaml'), 'rules:\n  - name: retrains\n    model: flights\n    metric: drift.training.distance\n    window: daily\n    when: { above: 0 }\n    actions: [{ type: retrain, pipeline: retrain.ts }]\n');
  const check = await runLoom(['monitor', 'alerts', 'check'], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  const row = check.stdout.split('\n').find((line) => line.startsWith('retrains'));
  assert.match(String(row), /FIRED .*retrain: done \(retrain\.ts: run (\S+)\)/);
  const runId = /run (\S+)\)/.exec(String(row))![1]!;
  assert.match(check.stderr, new RegExp(`warning: rule retrains: the alert's execution \\d+ could not record the retrainings it requested: disk I/O error\n  fix: .*run\\(s\\) ${runId} did start`));
  assert.doesNotMatch(check.stderr, /\n\s+at /, 'no stack trace');
});

test('loom monitor alerts check prints every rule it checked, and fails naming the rule it could not check', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, START, [1, 3]);
  await project.db.close();
  // A p-value rule on a distance is refused when its windows are read: it must not stop the rule after it.
  await writeAlertRules(dir, [{ name: 'p-on-distance', metric: 'drift.prediction.probability.jensen_shannon', when: { pValueBelow: 0.01 } }, DISTANCE_MOVED]);
  const check = await runCompiledLoom(['monitor', 'alerts', 'check', '--json'], { cwd: dir });
  assert.equal(check.code, EXIT_CODE.INVALID_ARGUMENT, check.stderr);
  const results = JSON.parse(check.stdout) as { rule: string; fired: boolean; error?: { code: string; fix?: string } }[];
  assert.deepEqual(results.map((r) => [r.rule, r.fired, r.error?.code]), [['p-on-distance', false, 'INVALID_ARGUMENT'], ['distance-moved', true, undefined]]);
  assert.match(check.stderr, /1 rule\(s\) could not be checked \(the others were\): rule p-on-distance: .*a distance with no p-value/);
  assert.match(check.stderr, /fix: watch a test/);
});

test('loom monitor alerts check: a model whose history cannot be refreshed fails its rules only; the others are checked and printed', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, START, [1, 3]);
  await project.db.close();
  // A rule written before its model is registered (no champion to monitor): its refresh fails, and must not stop the rule after it.
  const ghost = 'rules:\n  - name: ghost-drift\n    model: ghost\n    metric: drift.training.distance\n    window: daily\n    when: { above: 0 }\n    actions: [{ type: log }]\n';
  const moved = `  - name: ${DISTANCE_MOVED.name}\n    model: flights\n    metric: ${DISTANCE_MOVED.metric}\n    window: daily\n    when: { above: 0 }\n    actions: [{ type: log }]\n`;
  await writeFile(join(dir, 'loom-alerts.yaml'), ghost + moved);
  const check = await runCompiledLoom(['monitor', 'alerts', 'check', '--json'], { cwd: dir });
  assert.notEqual(check.code, 0, 'a rule not checked fails the command');
  assert.ok(check.stdout.trim().startsWith('['), `the others' answers are printed: ${check.stderr}`);
  const results = JSON.parse(check.stdout) as { rule: string; fired: boolean; error?: { code: string } }[];
  assert.deepEqual(results.map((r) => [r.rule, r.fired, r.error !== undefined]), [['ghost-drift', false, true], [DISTANCE_MOVED.name, true, false]]);
  assert.equal(check.code, EXIT_CODE[results[0]!.error!.code as keyof typeof EXIT_CODE]);
  assert.match(check.stderr, /1 rule\(s\) could not be checked \(the others were\): rule ghost-drift: .*ghost/);
});
