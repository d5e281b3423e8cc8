import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import type { LoomError } from '../core/errors.js';
import { readCodeVersion } from '../pipeline/code-version.js';
import { modelLineage } from '../queries/lineage.js';
import type { DeploymentStore } from '../registry/deployment-store.js';
import { runLoom } from '../../test/support/cli.js';
import { CANARY_START, canaryProject, canaryRequest, decidedCheck } from '../../test/support/canary-project.js';
import { postgresTestUrl } from '../../test/support/databases.js';
import { allowCanaryClearing, allowDecisionRecords, refuseCanaryClearing, refuseDecisionRecords } from '../../test/support/refuse-writes.js';
import { standaloneScope } from '../pipeline/run-scope.js';
import { canaryDecisionComponent, type CanaryDecisionParameters } from './canary-component.js';
import { decideCanaryStage, startCanary } from './canary-stage.js';

/** A check that is expected to decide (or fail), not to find another check deciding. */
const decide = async (...args: Parameters<typeof decideCanaryStage>) => decidedCheck(await decideCanaryStage(...args));

const request = canaryRequest;
const START = CANARY_START;

test('a canary as good as the primary over the same window is promoted: the alias moves, the canary leaves the deployment, the step is recorded', async (t) => {
  const { project, logDir, rows, v2 } = await canaryProject(t, (score) => score);
  // The same model on two halves of a few hundred flights: AUC differs by sampling alone (0.53 vs 0.61), which the tolerance allows for.
  const result = await decide(project.db, { kind: 'parquet', dir: logDir }, request('flights', rows, 0.15));
  assert.equal(result.decision.outcome, 'promote', result.decision.reason);
  assert.equal(result.decision.basis, 'measured');
  assert.equal(result.primary.rows + result.canary.rows, rows, 'each side is read from its own role');
  assert.equal(result.canary.labelled, result.canary.rows);
  assert.equal((await project.db.registry.getVersionByAlias('flights', 'champion'))?.version, v2);
  assert.equal((await project.db.deployments.getDeployment('flights'))?.canary, null);
  const execution = await project.db.metadata.getExecution(result.executionId!);
  assert.deepEqual([execution?.typeName, execution?.state], ['canary-decision', 'COMPLETE']);
  const events = await project.db.metadata.getEvents({ executionIds: [result.executionId!] });
  assert.deepEqual(events.filter((e) => e.type === 'INPUT').map((e) => e.name).sort(), ['canary', 'primary'], 'both versions are its inputs in lineage');
});

test('a canary whose scores rank the flights backwards is rolled back and the champion stays', async (t) => {
  const { project, logDir, rows } = await canaryProject(t, (score) => 1 - score);
  const result = await decide(project.db, { kind: 'parquet', dir: logDir }, request('flights', rows));
  assert.equal(result.decision.outcome, 'rollback', result.decision.reason);
  assert.ok(result.decision.canaryValue! < 0.5 && result.decision.primaryValue! > 0.5);
  assert.equal((await project.db.registry.getVersionByAlias('flights', 'champion'))?.version, 1);
  const deployment = await project.db.deployments.getDeployment('flights');
  assert.equal(deployment?.canary, null);
  assert.match(deployment!.reason, /rolled back/);
  await assert.rejects(decide(project.db, { kind: 'parquet', dir: logDir }, request('flights', rows)), { code: 'FAILED_PRECONDITION' });
});

/**
 * The alias moves, then taking the canary out fails: the failure is raised and recorded on the
 * decision with its code and fix, and the next check only finishes the clearing, deciding nothing anew.
 */
async function clearingFailsThenFinishes(t: { after: (fn: () => Promise<void>) => void }, postgresUrl?: string) {
  const { project, logDir, rows, v2 } = await canaryProject(t, (score) => score, postgresUrl);
  const log = { kind: 'parquet' as const, dir: logDir };
  const live = await project.db.deployments.getDeployment('flights');
  await refuseCanaryClearing(project.db.config.database);
  let failed: LoomError | undefined;
  await assert.rejects(decide(project.db, log, request('flights', rows, 0.15)), (error: LoomError) => {
    failed = error;
    assert.equal(error.code, 'UNAVAILABLE');
    assert.match(error.message, /canary v2 of flights was promoted \(the alias champion names it now\) by execution \d+, but could not be taken out of the deployment/);
    assert.match(String(error.fix), /decide the canary again/);
    return true;
  });
  assert.equal((await project.db.registry.getVersionByAlias('flights', 'champion'))?.version, v2, 'the promotion itself was done');
  assert.equal((await project.db.deployments.getDeployment('flights'))?.id, live?.id, 'the canary still serves');
  const decisions = (await project.db.metadata.listExecutions({ typeName: 'canary-decision' })).items;
  assert.equal(decisions.length, 1);
  assert.match(failed!.message, new RegExp(`execution ${decisions[0]!.id},`));
  const recorded = decisions[0]!.properties.canaryClearing as { status: string; code: string; message: string; fix: string };
  assert.deepEqual([recorded.status, recorded.code], ['failed', 'UNAVAILABLE']);
  assert.match(recorded.message, /disk I\/O error|No space left on device/);
  assert.ok(recorded.fix);

  const [lineage] = (await modelLineage(project.db, `flights@${v2}`, 30)).decisions;
  assert.deepEqual(lineage?.canaryClearing, recorded, 'lineage holds the failure');
  await allowCanaryClearing(project.db.config.database);
  // Another window and a policy that would roll it back: the decision made stands, and is only finished.
  const again = await decide(project.db, log, { ...request('flights', rows, 0), from: START, to: START + 10 });
  assert.equal(again.executionId, decisions[0]!.id);
  assert.equal(again.decision.outcome, 'promote');
  assert.equal(again.deployment.canary, null);
  assert.match(again.deployment.reason, new RegExp(`promoted \\(execution ${again.executionId}\\)`));
  assert.equal((await project.db.deployments.getDeployment('flights'))?.canary, null);
  const after = (await project.db.metadata.listExecutions({ typeName: 'canary-decision' })).items;
  assert.equal(after.length, 1, 'nothing was decided anew');
  assert.deepEqual(after[0]!.properties.canaryClearing, { status: 'done', deploymentId: again.deployment.id, outcome: 'promote', failedBefore: { code: recorded.code, message: recorded.message, fix: recorded.fix } });
  await assert.rejects(decide(project.db, log, request('flights', rows)), { code: 'FAILED_PRECONDITION' }, 'done: no canary is left to decide');
  return { project, decision: after[0]! };
}

test('a promotion whose canary cannot be taken out of the deployment says so with its code and fix, and the next check finishes it', async (t) => {
  const { project, decision } = await clearingFailsThenFinishes(t);
  const text = await runLoom(['lineage', 'flights@2'], { cwd: dirname(project.home) });
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(`exec ${decision.id} canary-decision \\(about this version\\): .* -> promote -> canary not taken out at first: disk I/O error \\[UNAVAILABLE\\] \\(fix: make the registry database writable .*\\) -> canary taken out by a later check \\(deployment \\d+\\)`),
  );
});

const postgresUrl = postgresTestUrl('canary clearing');
test('a promotion whose canary cannot be taken out of the deployment is finished by the next check (PostgreSQL)', { skip: !postgresUrl }, async (t) => {
  await clearingFailsThenFinishes(t, postgresUrl);
});

/**
 * The step moves the alias, then the database refuses to record it as complete: the step fails
 * with the promotion done and the canary still deployed. The next check finishes that promotion
 * (the primary now serves the canary's version, so deciding again would only ever hold) without a second decision.
 */
async function promotionInterruptedThenFinished(t: { after: (fn: () => Promise<void>) => void }, postgresUrl?: string) {
  const { project, logDir, rows, v2 } = await canaryProject(t, (score) => score, postgresUrl);
  const log = { kind: 'parquet' as const, dir: logDir };
  await refuseDecisionRecords(project.db.config.database);
  await assert.rejects(decide(project.db, log, request('flights', rows, 0.15)), /disk I\/O error|No space left on device/);
  assert.equal((await project.db.registry.getVersionByAlias('flights', 'champion'))?.version, v2, 'the step moved the alias before it failed');
  assert.equal((await project.db.deployments.getDeployment('flights'))?.canary?.ref, `flights@${v2}`, 'the canary still serves');
  const [failed, ...others] = (await project.db.metadata.listExecutions({ typeName: 'canary-decision' })).items;
  assert.deepEqual([failed?.state, others.length], ['FAILED', 0]);

  await allowDecisionRecords(project.db.config.database);
  // Another window and a policy that would roll it back: the promotion made stands, and is only finished.
  const again = await decide(project.db, log, { ...request('flights', rows, 0), from: START, to: START + 10 });
  assert.equal(again.executionId, failed!.id);
  assert.deepEqual([again.decision.outcome, again.decision.aliasMoved], ['promote', true], again.decision.reason);
  assert.equal(again.deployment.canary, null);
  assert.match(again.deployment.reason, new RegExp(`promoted \\(execution ${failed!.id}\\)`));
  assert.equal((await project.db.registry.getVersionByAlias('flights', 'champion'))?.version, v2);
  const after = (await project.db.metadata.listExecutions({ typeName: 'canary-decision' })).items;
  assert.equal(after.length, 1, 'nothing was decided anew');
  assert.deepEqual(after[0]!.properties.canaryClearing, { status: 'done', deploymentId: again.deployment.id, outcome: 'promote' });
  const [lineage] = (await modelLineage(project.db, `flights@${v2}`, 30)).decisions;
  assert.deepEqual([lineage?.state, lineage?.canaryClearing], ['FAILED', { status: 'done', deploymentId: again.deployment.id, outcome: 'promote' }], 'lineage shows the failed step, its verdict and that its canary was taken out');
  assert.match(String(lineage?.error), /disk I\/O error|No space left on device/);
  await assert.rejects(decide(project.db, log, request('flights', rows)), { code: 'FAILED_PRECONDITION' }, 'done: no canary is left to decide');
  return { project, decision: after[0]!, deployment: again.deployment };
}

test('a promotion whose step failed after moving the alias is finished by the next check, not held for ever', async (t) => {
  const { project, decision, deployment } = await promotionInterruptedThenFinished(t);
  const text = await runLoom(['lineage', 'flights@2'], { cwd: dirname(project.home) });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`exec ${decision.id} canary-decision \\(about this version\\) \\[FAILED: disk I/O error\\]: +-> promote -> canary taken out by a later check \\(deployment ${deployment.id}\\)`));
});

test('a promotion whose step failed after moving the alias is finished by the next check (PostgreSQL)', { skip: !postgresUrl }, async (t) => {
  await promotionInterruptedThenFinished(t, postgresUrl);
});

test('a canary whose version the primary already serves (the alias moved by hand) is taken out without a decision', async (t) => {
  const { project, logDir, rows, v2 } = await canaryProject(t, (score) => score);
  await project.db.registry.setAlias('flights', 'champion', v2, { actor: 'operator', reason: 'promoted by hand' });
  const result = await decide(project.db, { kind: 'parquet', dir: logDir }, request('flights', rows));
  assert.deepEqual([result.decision.outcome, result.decision.basis, result.executionId], ['promote', 'none', null]);
  assert.match(result.decision.reason, new RegExp(`the primary \\(flights@champion\\) already serves v${v2}, the canary's version`));
  assert.equal(result.deployment.canary, null);
  assert.equal((await project.db.deployments.getDeployment('flights'))?.canary, null);
  assert.equal((await project.db.metadata.listExecutions({ typeName: 'canary-decision' })).items.length, 0, 'nothing was decided');
});

test('a rollback whose canary could not be taken out is finished by the next check even when a concurrent check held after it', async (t) => {
  const { project, logDir, rows, v2 } = await canaryProject(t, (score) => 1 - score);
  const log = { kind: 'parquet' as const, dir: logDir };
  await refuseCanaryClearing(project.db.config.database);
  await assert.rejects(decide(project.db, log, request('flights', rows)), { code: 'UNAVAILABLE' });
  const [rollback] = (await project.db.metadata.listExecutions({ typeName: 'canary-decision' })).items;
  // A check that read the window before the rollback was made records its hold after it (too few canary rows then).
  const held = { ...(rollback!.parameters as unknown as CanaryDecisionParameters), canary: { version: v2, rows: 0, labelled: 0, estimated: { auc: null, accuracy: null, precision: null, recall: null, f1: null }, measured: null } };
  const hold = await project.db.runner.run({ component: canaryDecisionComponent, stepName: 'canary-decision', inputs: {}, parameters: held, run: standaloneScope('canary-decision', readCodeVersion(process.cwd())), cache: false });
  assert.equal(hold.outputs.decision?.properties.outcome, 'hold');
  await allowCanaryClearing(project.db.config.database);

  // A policy that would promote the canary on this window: the rollback made stands, and is only finished.
  const again = await decide(project.db, log, request('flights', rows, 1));
  assert.deepEqual([again.executionId, again.decision.outcome], [rollback!.id, 'rollback'], again.decision.reason);
  assert.equal((await project.db.registry.getVersionByAlias('flights', 'champion'))?.version, 1, 'the rolled-back canary is not promoted');
  assert.equal((await project.db.deployments.getDeployment('flights'))?.canary, null);
  assert.equal((await project.db.metadata.listExecutions({ typeName: 'canary-decision' })).items.length, 2, 'nothing was decided anew');
});

test('a check whose deployment changed while it decided does not take out the canary deployed since', async (t) => {
  const { project, logDir, rows } = await canaryProject(t, (score) => 1 - score);
  const v3 = await project.db.registry.createModelVersion({ modelName: 'flights', source: project.fixture.servingModel.uri, artifactId: project.servingModelId, status: 'READY', runId: null, description: 'the next canary' });
  // Between the check's reading of the deployment and its taking the canary out, an operator deploys the next canary.
  let raced = false;
  const deployments: DeploymentStore = Object.assign(Object.create(project.db.deployments) as DeploymentStore, {
    async setDeployment(...args: Parameters<DeploymentStore['setDeployment']>) {
      if (!raced) {
        raced = true;
        await startCanary(project.db, { model: 'flights', version: v3.version, weight: 0.2 });
      }
      return project.db.deployments.setDeployment(...args);
    },
  });
  const stores = Object.assign(Object.create(project.db) as typeof project.db, { deployments });
  await assert.rejects(decide(stores, { kind: 'parquet', dir: logDir }, request('flights', rows)), (error: LoomError) => {
    assert.equal(error.code, 'FAILED_PRECONDITION');
    assert.match(error.message, /canary v2 of flights was rolled back by execution \d+, but the deployment changed meanwhile .*flights@3/);
    return true;
  });
  assert.equal((await project.db.deployments.getDeployment('flights'))?.canary?.ref, `flights@${v3.version}`, 'the canary deployed since still serves');
});

test('a bad canary policy is refused naming the field and the fix, before anything is decided', async (t) => {
  const { project, logDir, rows } = await canaryProject(t, (score) => score);
  await assert.rejects(decide(project.db, { kind: 'parquet', dir: logDir }, { ...request('flights', rows), policy: { tolerance: 2 } }), (error: LoomError) => {
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.field, 'policy.tolerance');
    assert.match(error.message, /^the canary policy: policy\.tolerance: /);
    assert.match(String(error.fix), /policy\.tolerance from 0 to 1/);
    return true;
  });
  assert.equal((await project.db.metadata.listExecutions({ typeName: 'canary-decision' })).items.length, 0);
  assert.ok((await project.db.deployments.getDeployment('flights'))?.canary, 'the canary stays');
});
