import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { makeTempDir } from '../../../test/support/flights.js';
import { openTestPlatform, postgresTestUrl, openFreshPostgres } from '../../../test/support/databases.js';
import { refuseRetrainRecords, skipRetrainRecords } from '../../../test/support/refuse-writes.js';
import { testStepRunner } from '../../../test/support/step-runner.js';
import { LoomError } from '../../core/errors.js';
import { typeRecord, ServingModel } from '../../pipeline/artifact-types.js';
import type { Platform } from '../../platform/platform.js';
import { listAlerts } from './history.js';
import { LocalArtifactStore } from '../../store/local-artifact-store.js';
import { checkAlerts } from './check.js';
import { RetrainRunFailed, retrainsOf } from './retrain-link.js';
import { decideAlert, type MetricPoint } from './evaluate.js';
import { parseAlertRules, readAlertRules, type AlertRule } from './rules.js';
import { deliverWebhook } from './webhook.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2001, 2, 1);
const point = (i: number, value: number, modelVersion = 2): MetricPoint => ({ windowStart: T0 + i * HOUR, windowEnd: T0 + (i + 1) * HOUR, modelVersion, value });

const RULES = `
rules:
  - name: distance-drift
    model: flights
    metric: drift.training.distance
    window: hourly
    when: { above: 0.2 }
    for: 2
    severity: critical
    cooldown: 3h
    actions:
      - type: log
      - type: rollback
`;

test('a rules file is read from YAML with defaults, and every mistake is named by its field', () => {
  const [rule] = parseAlertRules(RULES, 'loom-alerts.yaml');
  assert.equal(rule!.for, 2);
  assert.deepEqual(rule!.actions, [{ type: 'log' }, { type: 'rollback', alias: 'champion' }]);
  const refused = (text: string) => {
    try {
      parseAlertRules(text, 'loom-alerts.yaml');
    } catch (error) {
      assert.ok(error instanceof LoomError);
      return { field: error.field, message: error.message };
    }
    assert.fail(`accepted: ${text}`);
  };
  assert.equal(refused(RULES.replace('cooldown: 3h', 'cooldown: 3 hours')).field, 'rules[0].cooldown');
  assert.equal(refused(RULES.replace('type: rollback', 'type: page-someone')).field, 'rules[0].actions[1].type');
  assert.equal(refused(RULES.replace('when: { above: 0.2 }', 'when: { above: 0.2, below: 1 }')).field, 'rules[0].when');
  assert.equal(refused(RULES.replace('    actions:', '    severity_level: 2\n    actions:')).field, 'rules[0].severity_level');
  assert.match(refused(`${RULES}${RULES.replace('rules:\n', '')}`).message, /used twice/);
  assert.match(refused('rules: [ {name: x').message, /not valid YAML or JSON \(line \d+\)/);
  assert.equal(refused('{"rules": []}').field, 'rules');
});

test('a rule fires after `for` breaching windows in a row, once per window, and not again within its cool-down', () => {
  const [rule] = parseAlertRules(RULES, 'rules.yaml') as [AlertRule];
  assert.equal(decideAlert(rule, [point(0, 0.5)], undefined).fire, false, 'one window of the two it needs');
  assert.equal(decideAlert(rule, [point(0, 0.1), point(1, 0.5)], undefined).fire, false, 'not two in a row');
  const fired = decideAlert(rule, [point(0, 0.3), point(1, 0.5)], undefined);
  assert.ok(fired.fire);
  assert.match(fired.summary, /flights v2: drift.training.distance > 0.2 in 2 window\(s\) in a row: 0.3, 0.5/);
  const last = { windowEnd: T0 + 2 * HOUR };
  assert.match(String((decideAlert(rule, [point(0, 0.3), point(1, 0.5)], last) as { reason: string }).reason), /already fired/);
  assert.match(String((decideAlert(rule, [point(1, 0.5), point(2, 0.6)], last) as { reason: string }).reason), /cooling down/);
  assert.equal(decideAlert(rule, [point(3, 0.5), point(4, 0.6)], last).fire, true, 'three hours later it fires again');
  const test = { ...rule, when: { pValueBelow: 0.01 }, for: 1 };
  assert.equal(decideAlert(test, [{ ...point(0, 9), pValue: 0.2 }], undefined).fire, false);
  assert.equal(decideAlert(test, [{ ...point(0, 9), pValue: 0.001 }], undefined).fire, true);
  assert.equal(decideAlert(test, [point(0, 9)], undefined).fire, false, 'no p-value, no breach');
});

/** A receiver answering each request with the next status; `null` never answers. */
async function receiver(statuses: (number | null)[]): Promise<{ url: string; bodies: unknown[]; server: Server }> {
  const bodies: unknown[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(text));
      const status = statuses.shift();
      if (status !== null) response.writeHead(status ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
}

test('a webhook is retried with back-off on 5xx and timeouts, not on other 4xx, and never throws', async (t) => {
  const flaky = await receiver([500, 503, 200]);
  const silent = await receiver([null, null]);
  const refusing = await receiver([400]);
  t.after(() => {
    flaky.server.close();
    silent.server.closeAllConnections();
    silent.server.close();
    refusing.server.close();
  });
  const hook = (url: string, retries: number, timeout = '5s') => ({ type: 'webhook' as const, url, retries, timeout });
  assert.deepEqual(await deliverWebhook(hook(flaky.url, 3), { rule: 'r' }, { firstRetryMs: 10 }), { delivered: true, attempts: 3, detail: 'HTTP 200' });
  assert.deepEqual(flaky.bodies, [{ rule: 'r' }, { rule: 'r' }, { rule: 'r' }]);
  assert.deepEqual(await deliverWebhook(hook(silent.url, 1, '1s'), { rule: 'r' }, { firstRetryMs: 10 }), { delivered: false, attempts: 2, detail: 'timed out after 1s' });
  assert.deepEqual(await deliverWebhook(hook(refusing.url, 3), { rule: 'r' }, { firstRetryMs: 10 }), { delivered: false, attempts: 1, detail: 'HTTP 400' });
  const closed = await deliverWebhook(hook('http://127.0.0.1:1/hook', 0), { rule: 'r' });
  assert.equal(closed.delivered, false);
});

async function firesAndActs(platform: Platform, dir: string) {
  const { metadata, registry } = platform;
  const artifacts = new LocalArtifactStore(`${dir}/artifacts`);
  await metadata.putArtifactType(typeRecord(ServingModel));
  const staging = await artifacts.stage();
  await writeFile(ServingModel.files.signature(staging), '{}');
  const committed = await artifacts.commit(staging);
  const [v2artifact] = await metadata.putArtifacts([{ typeName: ServingModel.name, uri: committed.uri, fingerprint: committed.fingerprint, properties: { labelColumn: 'delayed' } }]);
  await registry.ensureRegisteredModel('flights');
  await registry.createModelVersion({ modelName: 'flights', source: 'file:///models/v1', status: 'READY' });
  await registry.createModelVersion({ modelName: 'flights', source: 'file:///models/v2', status: 'READY', artifactId: v2artifact!.id });
  await registry.setAlias('flights', 'champion', 1, { actor: 'ana', reason: 'first' });
  await registry.setAlias('flights', 'champion', 2, { actor: 'ana', reason: 'retrained' });
  const hook = await receiver([500, 500, 500]);
  try {
    const rules = parseAlertRules(
      `${RULES}      - type: webhook\n        url: ${hook.url}\n        retries: 2\n      - type: retrain\n        pipeline: pipelines/flights.ts\n`,
      'rules.yaml',
    );
    const retrains: [string, number][] = [];
    const options = {
      points: async () => [point(0, 0.1), point(1, 0.4), point(2, 0.45)],
      retrain: async (pipeline: string, executionId: number) => {
        retrains.push([pipeline, executionId]);
        return 'flights-run-1';
      },
      codeVersion: { commit: null, dirty: false },
      webhookFirstRetryMs: 5,
    };
    const runner = testStepRunner(platform, artifacts);
    const [result] = await checkAlerts({ metadata, registry, runner }, rules, options);
    assert.equal(result!.fired, true, result!.summary);
    assert.deepEqual(result!.actions!.map((a) => [a.type, a.status]), [['log', 'done'], ['rollback', 'done'], ['webhook', 'failed'], ['retrain', 'done']]);
    assert.match(result!.actions![1]!.detail, /flights@champion rolled back from v2 to v1/);
    assert.match(result!.actions![2]!.detail, /HTTP 500 after 3 attempt/);
    assert.deepEqual(retrains, [['pipelines/flights.ts', result!.executionId]]);
    assert.equal(hook.bodies.length, 3);

    // The alias really moved, by the rule, and the alert is in lineage with the version it is about.
    assert.equal((await registry.getRegisteredModel('flights'))?.aliases.champion, 1);
    const history = await registry.aliasHistory('flights', 'champion');
    assert.equal(history[0]!.actor, 'alert:distance-drift');
    const [alert] = await listAlerts(metadata, { model: 'flights' });
    assert.deepEqual([alert!.rule, alert!.modelVersion, alert!.value, alert!.windowEnd], ['distance-drift', 2, 0.45, T0 + 3 * HOUR]);
    const events = await metadata.getEvents({ executionIds: [result!.executionId!] });
    assert.deepEqual(events.map((e) => [e.type, e.artifactId]).sort(), [['INPUT', v2artifact!.id], ['OUTPUT', alert!.artifactId]].sort());

    // The same windows again: already fired, nothing is done twice.
    const [again] = await checkAlerts({ metadata, registry, runner }, rules, options);
    assert.equal(again!.fired, false);
    assert.match(again!.summary, /already fired/);
    assert.equal((await listAlerts(metadata)).length, 1);
  } finally {
    hook.server.close();
  }
}

test('a firing rule rolls the alias back, calls its webhook, requests retraining, and is recorded in lineage (SQLite)', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openTestPlatform(dir);
  t.after(() => platform.close());
  await firesAndActs(platform, dir);
});

const pgUrl = postgresTestUrl('alerts');
test('a firing rule acts and is recorded (PostgreSQL)', { skip: pgUrl ? false : 'no PostgreSQL' }, async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openFreshPostgres(pgUrl!);
  t.after(() => platform.close());
  await firesAndActs(platform, dir);
});

/** A rule that fires on its last window and asks for a retraining, for a model with one version. */
async function firesAndRetrains(platform: Platform, dir: string, metadata = platform.metadata) {
  await platform.registry.ensureRegisteredModel('flights');
  await platform.registry.createModelVersion({ modelName: 'flights', source: 'file:///models/v1', status: 'READY' });
  return retrainRuleFires(platform, dir, { metadata, hours: 0, retrain: async () => 'flights-run-7' });
}

/** The retraining rule checked on the window `hours` after the first, its runs started by `retrain`. */
function retrainRuleFires(platform: Platform, dir: string, pass: { metadata: Platform['metadata']; hours: number; retrain: () => Promise<string> }) {
  const rules = parseAlertRules(RULES.replace('for: 2', 'for: 1').replace('      - type: log\n      - type: rollback\n', '      - type: retrain\n        pipeline: pipelines/flights.ts\n'), 'rules.yaml');
  const runner = testStepRunner(platform, new LocalArtifactStore(`${dir}/artifacts`));
  return checkAlerts({ metadata: pass.metadata, registry: platform.registry, runner }, rules, {
    points: async () => [point(pass.hours, 0.5, 1)],
    retrain: pass.retrain,
    codeVersion: { commit: null, dirty: false },
  });
}

async function recordRefused(platform: Platform, dir: string) {
  await refuseRetrainRecords(platform.config.database);
  const [result] = await firesAndRetrains(platform, dir);
  // The pass's answer is whole: the rule fired, the run it started is named, and the record that failed says why and what to do.
  assert.equal(result!.fired, true, result!.summary);
  assert.deepEqual(result!.actions, [{ type: 'retrain', status: 'done', detail: 'pipelines/flights.ts: run flights-run-7' }]);
  assert.ok(result!.recordFailure, 'the failed record is reported');
  assert.match(result!.recordFailure.message, new RegExp(`execution ${result!.executionId} could not record the retrainings .*(disk I/O error|No space left on device)`));
  assert.match(result!.recordFailure.fix, /run\(s\) flights-run-7 did start/);
  assert.equal(result!.recordFailure.code, 'UNAVAILABLE', 'a database error is no LoomError: the store is unavailable for this write');
  // The alert itself is in lineage; only the retraining record is missing.
  assert.deepEqual((await listAlerts(platform.metadata)).map((a) => a.rule), ['distance-drift']);
  assert.equal((await platform.metadata.getExecution(result!.executionId!))?.properties.retrains, undefined);
}

test('a retraining record the database refuses does not lose the pass: the runs and the failure are both returned (SQLite)', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openTestPlatform(dir);
  t.after(() => platform.close());
  const [recorded] = await firesAndRetrains(platform, dir);
  assert.equal(recorded!.recordFailure, undefined, 'a database that writes records, and reports nothing');
  assert.deepEqual((await platform.metadata.getExecution(recorded!.executionId!))?.properties.retrains, [{ pipeline: 'pipelines/flights.ts', status: 'started', runId: 'flights-run-7' }]);
  const other = await makeTempDir((fn) => t.after(fn));
  const refusing = await openTestPlatform(other);
  t.after(() => refusing.close());
  await recordRefused(refusing, other);
});

test('a retraining record the database refuses does not lose the pass (PostgreSQL)', { skip: pgUrl ? false : 'no PostgreSQL' }, async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openFreshPostgres(pgUrl!);
  t.after(() => platform.close());
  await recordRefused(platform, dir);
});

/** The store's own refusal (a LoomError) keeps its code, and its fix comes first, before which runs started. */
async function recordSkipped(platform: Platform, dir: string) {
  await skipRetrainRecords(platform.config.database);
  const [result] = await firesAndRetrains(platform, dir);
  assert.equal(result!.fired, true, result!.summary);
  assert.equal(result!.recordFailure?.code, 'FAILED_PRECONDITION');
  assert.match(result!.recordFailure.message, /changed while it was being updated/);
  // The database wrote fine: no advice to make it writable, only what did happen.
  assert.equal(result!.recordFailure.fix, 'run(s) flights-run-7 did start (do not start them again)');
}

test("a store's refusal keeps its code and fix in the pass's record failure (SQLite)", async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openTestPlatform(dir);
  t.after(() => platform.close());
  await recordSkipped(platform, dir);

  // A refusal with a fix (as a store behind a token would give): the fix is the user's first step.
  const other = await makeTempDir((fn) => t.after(fn));
  const denied = await openTestPlatform(other);
  t.after(() => denied.close());
  const refusing = new Proxy(denied.metadata, {
    get: (store, key) =>
      key === 'updateExecution'
        ? () => Promise.reject(new LoomError('PERMISSION_DENIED', 'this token may not write executions', { fix: 'use a token with the metadata:write scope' }))
        : Reflect.get(store, key, store),
  });
  const [result] = await firesAndRetrains(denied, other, refusing);
  assert.deepEqual(result!.recordFailure, {
    code: 'PERMISSION_DENIED',
    message: `the alert's execution ${result!.executionId} could not record the retrainings it requested: this token may not write executions`,
    fix: 'use a token with the metadata:write scope; run(s) flights-run-7 did start (do not start them again)',
  });
});

test("a store's refusal keeps its code in the pass's record failure (PostgreSQL)", { skip: pgUrl ? false : 'no PostgreSQL' }, async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openFreshPostgres(pgUrl!);
  t.after(() => platform.close());
  await recordSkipped(platform, dir);
});

/**
 * Retrainings that fail keep the failure's code and fix in the alert's record: one that cannot start
 * (its LoomError), one whose run started and failed (its step's LoomError, as the cause), and a plain error.
 */
async function retrainFailuresRecorded(platform: Platform, dir: string) {
  const failures = [
    new LoomError('NOT_FOUND', 'pipeline file pipelines/flights.ts does not exist', { fix: 'give the path of a .ts or .js file that exports a pipeline' }),
    new RetrainRunFailed('flights-run-8', new LoomError('FAILED_PRECONDITION', 'the training data is gone', { fix: 'ingest the newest month again' })),
    new Error('socket hang up'),
  ];
  const expected = [
    { pipeline: 'pipelines/flights.ts', status: 'failed', reason: 'pipeline file pipelines/flights.ts does not exist', code: 'NOT_FOUND', fix: 'give the path of a .ts or .js file that exports a pipeline' },
    { pipeline: 'pipelines/flights.ts', status: 'failed', reason: 'the training data is gone', code: 'FAILED_PRECONDITION', fix: 'ingest the newest month again', runId: 'flights-run-8' },
    { pipeline: 'pipelines/flights.ts', status: 'failed', reason: 'socket hang up', code: 'INTERNAL' },
  ];
  for (const [i, failure] of failures.entries()) {
    // Each pass its own window, so the rule's cool-down does not hold it back.
    const [result] = await retrainRuleFires(platform, dir, { metadata: platform.metadata, hours: i * 10, retrain: () => Promise.reject(failure) });
    assert.equal(result!.fired, true, result!.summary);
    assert.equal(result!.actions![0]!.status, 'failed');
    const execution = await platform.metadata.getExecution(result!.executionId!);
    assert.deepEqual(execution?.properties.retrains, [expected[i]]);
    assert.deepEqual(retrainsOf(execution!), [expected[i]], 'the lineage reader gives them back');
  }
}

test("a retraining that fails is recorded with its error's code and fix, not only its message (SQLite)", async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openTestPlatform(dir);
  t.after(() => platform.close());
  await platform.registry.ensureRegisteredModel('flights');
  await platform.registry.createModelVersion({ modelName: 'flights', source: 'file:///models/v1', status: 'READY' });
  await retrainFailuresRecorded(platform, dir);
});

test("a retraining that fails is recorded with its error's code and fix (PostgreSQL)", { skip: pgUrl ? false : 'no PostgreSQL' }, async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openFreshPostgres(pgUrl!);
  t.after(() => platform.close());
  await platform.registry.ensureRegisteredModel('flights');
  await platform.registry.createModelVersion({ modelName: 'flights', source: 'file:///models/v1', status: 'READY' });
  await retrainFailuresRecorded(platform, dir);
});

/** Two rules, the first unreadable (its metric has several measures): the second is still checked, fires and is recorded. */
async function oneRuleUnchecked(platform: Platform, dir: string) {
  await platform.registry.ensureRegisteredModel('flights');
  await platform.registry.createModelVersion({ modelName: 'flights', source: 'file:///models/v1', status: 'READY' });
  const rules = parseAlertRules(`${RULES.replace('for: 2', 'for: 1').replace('name: distance-drift', 'name: ambiguous')}${RULES.replace('rules:\n', '').replace('for: 2', 'for: 1').replace('      - type: rollback\n', '')}`, 'rules.yaml');
  const runner = testStepRunner(platform, new LocalArtifactStore(`${dir}/artifacts`));
  const results = await checkAlerts({ metadata: platform.metadata, registry: platform.registry, runner }, rules, {
    points: async (rule) => {
      if (rule.name === 'ambiguous') throw new LoomError('INVALID_ARGUMENT', 'rule "ambiguous": drift.training.distance has several measures (psi, ks)', { field: 'metric', fix: 'name one: drift.training.distance.psi' });
      return [point(0, 0.5, 1)];
    },
    codeVersion: { commit: null, dirty: false },
  });
  assert.deepEqual(results.map((r) => [r.rule, r.fired]), [['ambiguous', false], ['distance-drift', true]]);
  assert.deepEqual(results[0]!.error, { code: 'INVALID_ARGUMENT', message: 'rule "ambiguous": drift.training.distance has several measures (psi, ks)', fix: 'name one: drift.training.distance.psi' });
  assert.match(results[0]!.summary, /^not checked: /);
  assert.equal(results[1]!.error, undefined);
  assert.deepEqual((await listAlerts(platform.metadata)).map((a) => a.rule), ['distance-drift']);
}

test('a rule that cannot be checked is answered with its error, and the rules after it are still checked (SQLite)', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openTestPlatform(dir);
  t.after(() => platform.close());
  await oneRuleUnchecked(platform, dir);
});

test('a rule that cannot be checked does not stop the others (PostgreSQL)', { skip: pgUrl ? false : 'no PostgreSQL' }, async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openFreshPostgres(pgUrl!);
  t.after(() => platform.close());
  await oneRuleUnchecked(platform, dir);
});

test('a rules file with each field wrong in turn, unknown keys, an alias bomb or nothing in it is refused naming the field, with a fix', () => {
  const refused = (text: string) => {
    try {
      parseAlertRules(text, 'loom-alerts.yaml');
    } catch (error) {
      assert.ok(error instanceof LoomError, String(error));
      assert.equal(error.code, 'INVALID_ARGUMENT');
      assert.ok(error.fix, `no fix: ${error.message}`);
      return { field: error.field, message: error.message, fix: error.fix! };
    }
    assert.fail(`accepted: ${text}`);
  };
  const wrong: [string, string, string][] = [
    ['name: distance-drift', 'name: "two words"', 'rules[0].name'],
    ['model: flights', 'model: ""', 'rules[0].model'],
    ['model: flights', 'model: [flights]', 'rules[0].model'],
    ['metric: drift.training.distance', 'metric: accuracy', 'rules[0].metric'],
    ['window: hourly', 'window: weekly', 'rules[0].window'],
    ['window: hourly', 'window: { requests: 0 }', 'rules[0].window.requests'],
    ['when: { above: 0.2 }', 'when: { above: "0.2" }', 'rules[0].when'],
    ['when: { above: 0.2 }', 'when: { above: .nan }', 'rules[0].when'],
    ['when: { above: 0.2 }', 'when: { above: .inf }', 'rules[0].when'],
    ['when: { above: 0.2 }', 'when: { pValueBelow: 1 }', 'rules[0].when.pValueBelow'],
    ['for: 2', 'for: 1.5', 'rules[0].for'],
    ['for: 2', 'for: -1', 'rules[0].for'],
    ['severity: critical', 'severity: urgent', 'rules[0].severity'],
    ['cooldown: 3h', 'cooldown: -3h', 'rules[0].cooldown'],
    ['      - type: log\n', '      - type: log\n        level: loud\n', 'rules[0].actions[0].level'],
    ['      - type: rollback\n', '      - type: webhook\n        url: javascript:alert(1)\n', 'rules[0].actions[1].url'],
    ['      - type: rollback\n', '      - type: webhook\n        url: http://hooks.example/x\n        retries: 1000\n', 'rules[0].actions[1].retries'],
    ['      - type: rollback\n', '      - type: retrain\n', 'rules[0].actions[1].pipeline'],
    ['    actions:\n      - type: log\n      - type: rollback\n', '    actions: []\n', 'rules[0].actions'],
  ];
  for (const [from, to, field] of wrong) {
    assert.ok(RULES.includes(from), from);
    const { field: named, message } = refused(RULES.replace(from, to));
    assert.equal(named, field, to);
    if (field === 'rules[0].when') assert.match(message, /one of \{ above: <number> \}/, 'the shapes a condition takes');
  }
  assert.equal(refused(`${RULES}extra: 1\n`).field, 'extra', 'an unknown key at the top');
  // A billion laughs: aliases that expand without bound are refused, not expanded.
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`), 'rules: [*i]'].join('\n');
  assert.match(refused(bomb).message, /not valid YAML or JSON.*alias/i);
  assert.match(refused(bomb).fix, /without aliases that expand/);
  // An alias whose anchor is not defined (a typo) is no bomb: its fix says to define or correct it.
  const unresolved = refused(RULES.replace('model: flights', 'model: *flight'));
  assert.match(unresolved.message, /Unresolved alias.*flight/);
  assert.match(unresolved.fix, /anchor/);
  for (const empty of ['', '# only a comment\n', '---\n', 'null']) assert.equal(refused(empty).field, 'loom-alerts.yaml', JSON.stringify(empty));
  assert.match(refused('').message, /loom-alerts\.yaml is empty/);
  assert.equal(refused('- name: x').field, 'loom-alerts.yaml', 'a list, not a map');
  assert.match(refused(`rules:\n  - &r\n    name: a\n    model: flights\n    metric: drift.training.distance\n    when: { above: 1 }\n    actions: [{ type: log }]\n  - *r\n`).message, /used twice/);
});

test('YAML merge keys share a rule\'s fields: a later rule merges an anchored one, its own keys winning', () => {
  const text = `${RULES}  - <<: *base\n    name: distance-drift-daily\n    window: daily\n  - <<: [*base]\n    name: distance-drift-low\n    when: { below: 0.01 }\n`.replace('  - name: distance-drift\n', '  - &base\n    name: distance-drift\n');
  const [base, daily, low] = parseAlertRules(text, 'loom-alerts.yaml');
  assert.deepEqual({ ...daily!, name: base!.name, window: base!.window }, base);
  assert.deepEqual([daily!.name, daily!.window, daily!.when], ['distance-drift-daily', 'daily', { above: 0.2 }]);
  assert.deepEqual([low!.name, low!.window, low!.when, low!.actions], ['distance-drift-low', 'hourly', { below: 0.01 }, base!.actions]);
  // A merge key given something else than a map is refused with what to give it.
  assert.throws(() => parseAlertRules(`${RULES}  - <<: 3\n    name: other\n`, 'loom-alerts.yaml'), (error: LoomError) => {
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.match(error.message, /loom-alerts\.yaml is not valid YAML or JSON: Merge sources must be maps/);
    assert.match(error.fix!, /merge key \(<<\) an alias of a map/);
    return true;
  });
});

test('a rules path that is a directory, missing or unreadable is refused saying which, with what to give instead', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  await assert.rejects(readAlertRules(dir), (error: LoomError) => {
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.message, `${dir} is a directory, not an alert rules file`);
    assert.equal(error.field, 'rules');
    assert.match(error.fix!, new RegExp(`--rules, e\\.g\\. ${join(dir, 'loom-alerts.yaml').replace(/[.]/g, '\\.')}`));
    return true;
  });
  await assert.rejects(readAlertRules(join(dir, 'none.yaml')), { code: 'NOT_FOUND', message: /no alert rules file at/ });
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'rules.yaml'), RULES);
  assert.equal((await readAlertRules(join(dir, 'sub', 'rules.yaml')))[0]!.name, 'distance-drift');
  if (process.getuid?.() !== 0) {
    await chmod(join(dir, 'sub', 'rules.yaml'), 0o000);
    await assert.rejects(readAlertRules(join(dir, 'sub', 'rules.yaml')), { code: 'PERMISSION_DENIED', field: 'rules', message: /cannot read the alert rules file .*EACCES/ });
  }
});
