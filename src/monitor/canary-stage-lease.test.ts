// The canary stage under its lease, on SQLite and (with LOOM_TEST_POSTGRES_URL) PostgreSQL: two
// checks started together (two processes, each over its own connection) decide once, and a check
// never mistakes the alias move of a step whose check died for a move made by hand.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { currentOwner, type ProcessOwner } from '../core/process-owner.js';
import { readCodeVersion } from '../pipeline/code-version.js';
import { CANARY_START, canaryProject, canaryRequest, decidedCheck } from '../../test/support/canary-project.js';
import { postgresTestUrl } from '../../test/support/databases.js';
import { canaryDecisionComponent, type CanaryDecisionParameters } from './canary-component.js';
import { canaryPolicy } from './canary-decision.js';
import { decideCanaryStage } from './canary-stage.js';

const CHECK = fileURLToPath(new URL('../../test/support/canary-check.ts', import.meta.url));
const postgresUrl = postgresTestUrl('canary stage lease');

type CheckAnswer = { decided?: { outcome: string; executionId: number | null }; inProgress?: string; error?: { code: string; message: string } };

function runCheck(input: object, barrierDir: string, name: string): Promise<CheckAnswer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHECK, JSON.stringify(input), barrierDir, name, '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as CheckAnswer) : reject(new Error(`check ${name} exited with ${code}:\n${err}`))));
  });
}

/** Two checks of a canary that passes, started together in two processes: one decides and acts, the other finds it deciding. */
async function twoChecksDecideOnce(t: { after: (fn: () => Promise<void>) => void }, postgresUrl?: string) {
  const { project, logDir, rows, v2, overrides } = await canaryProject(t, (score) => score, postgresUrl);
  const { codeVersion: _, ...request } = canaryRequest('flights', rows, 0.15);
  const input = { home: project.home, overrides, log: { kind: 'parquet', dir: logDir }, request };
  const barrierDir = mkdtempSync(join(tmpdir(), 'loom-canary-barrier-'));
  let answers: CheckAnswer[];
  try {
    answers = await Promise.all([runCheck(input, barrierDir, 'a'), runCheck(input, barrierDir, 'b')]);
  } finally {
    rmSync(barrierDir, { recursive: true, force: true });
  }
  const decided = answers.filter((a) => a.decided);
  assert.equal(decided.length, 1, `exactly one check decides: ${JSON.stringify(answers)}`);
  assert.equal(decided[0]!.decided!.outcome, 'promote');
  const other = answers.find((a) => !a.decided)!;
  assert.match(String(other.inProgress), new RegExp(`^a canary decision on flights is in progress \\(by process \\d+ on host .*, since \\d{4}-.*\\): nothing was done$`), JSON.stringify(other));

  const decisions = (await project.db.metadata.listExecutions({ typeName: canaryDecisionComponent.name })).items;
  assert.deepEqual(decisions.map((d) => [d.id, d.state]), [[decided[0]!.decided!.executionId, 'COMPLETE']], 'lineage records one decision');
  const moves = (await project.db.registry.aliasHistory('flights', 'champion')).filter((m) => m.actor === 'canary-decision');
  assert.equal(moves.length, 1, 'the alias moved once');
  assert.equal((await project.db.registry.getVersionByAlias('flights', 'champion'))?.version, v2);
  const clearings = (await project.db.deployments.history('flights')).filter((d) => d.actor === 'canary-decision');
  assert.equal(clearings.length, 1, 'the canary was taken out once');
  assert.equal((await project.db.deployments.getDeployment('flights'))?.canary, null);
  assert.equal(await project.db.canaryLeases.getLease('flights'), undefined, 'the lease was released');
}

test('two checks started together decide once: one promotes, the other finds the decision in progress and does nothing', async (t) => {
  await twoChecksDecideOnce(t);
});

test('two checks started together decide once (PostgreSQL)', { skip: !postgresUrl }, async (t) => {
  await twoChecksDecideOnce(t, postgresUrl);
});

/** A process on another host: this machine cannot tell whether it still runs, so only its lease's expiry says it is gone. */
const ELSEWHERE: ProcessOwner = { pid: 4242, host: 'another-host.example', startToken: null };

/**
 * A check on another host was killed during its step, after the step moved the alias: its lease
 * and its RUNNING step are left. While the lease is live the next check does nothing (before the
 * lease, it took the canary out as if the alias had been moved by hand); once it expires, the next
 * check takes it over, marks the step failed and finishes its promotion from the figures it recorded.
 */
async function killedStepWaitsForItsLease(t: { after: (fn: () => Promise<void>) => void }, postgresUrl?: string) {
  const { project, logDir, rows, v2 } = await canaryProject(t, (score) => score, postgresUrl);
  const log = { kind: 'parquet' as const, dir: logDir };
  const live = (await project.db.deployments.getDeployment('flights'))!;
  const parameters = promotingParameters(live.id, rows, v2);
  const claim = await project.db.canaryLeases.claim('flights', { ttlMs: 10 * 60_000, holder: ELSEWHERE });
  assert.ok(claim.claimed);
  const killed = await project.db.metadata.createExecution({ typeName: canaryDecisionComponent.name, stepName: 'canary-decision', parameters: parameters as never, codeVersion: readCodeVersion(process.cwd()), state: 'RUNNING', owner: ELSEWHERE });
  await project.db.registry.setAlias('flights', 'champion', v2, { actor: 'canary-decision', reason: 'the killed step promoted it' });

  const waiting = await decideCanaryStage(project.db, log, canaryRequest('flights', rows));
  assert.ok('inProgress' in waiting, `the check waits for the lease: ${JSON.stringify(waiting)}`);
  assert.match(waiting.message, /in progress \(by process 4242 on host another-host\.example, since .*\): nothing was done/);
  assert.equal((await project.db.deployments.getDeployment('flights'))?.id, live.id, 'the canary was not taken out');
  assert.equal((await project.db.metadata.getExecution(killed.id))?.state, 'RUNNING');

  await project.db.canaryLeases.renew(claim.lease, 0); // the killed check's lease runs out
  // A policy that would roll the canary back: the promotion made stands, and is only finished.
  const finished = decidedCheck(await decideCanaryStage(project.db, log, canaryRequest('flights', rows, 0)));
  assert.deepEqual([finished.executionId, finished.decision.outcome, finished.decision.aliasMoved], [killed.id, 'promote', true], finished.decision.reason);
  assert.equal(finished.deployment.canary, null);
  assert.match(finished.deployment.reason, new RegExp(`promoted \\(execution ${killed.id}\\)`));
  const after = await project.db.metadata.getExecution(killed.id);
  assert.equal(after?.state, 'FAILED');
  assert.match(String(after?.error), /lost the canary lease on flights/);
  assert.deepEqual(after?.properties.canaryClearing, { status: 'done', deploymentId: finished.deployment.id, outcome: 'promote' });
  assert.equal((await project.db.metadata.listExecutions({ typeName: canaryDecisionComponent.name })).items.length, 1, 'nothing was decided anew');
  assert.equal(await project.db.canaryLeases.getLease('flights'), undefined, 'the lease taken over was released');
}

/** The parameters of a decision step about deployment `deploymentId` that promotes the canary. */
function promotingParameters(deploymentId: number, rows: number, v2: number): CanaryDecisionParameters {
  const side = (version: number, auc: number) => ({ version, rows: 1000, labelled: 1000, estimated: figures(auc), measured: figures(auc) });
  return { model: 'flights', alias: 'champion', window: { from: CANARY_START, to: CANARY_START + rows }, primary: side(1, 0.6), canary: side(v2, 0.65), policy: canaryPolicy.parse({}), deploymentId };
}

function figures(auc: number) {
  return { auc, accuracy: 0.7, precision: 0.5, recall: 0.5, f1: 0.5 };
}

test('a check waits while a killed step holds its lease, then finishes the promotion it made instead of calling it a hand move', async (t) => {
  await killedStepWaitsForItsLease(t);
});

test('a check waits while a killed step holds its lease, then finishes its promotion (PostgreSQL)', { skip: !postgresUrl }, async (t) => {
  await killedStepWaitsForItsLease(t, postgresUrl);
});

/**
 * A check on this host stalled in its step past its lease (its process still runs): the next
 * check takes the expired lease, but leaves the live step alone and answers inProgress, instead of
 * marking it failed and deciding again while the stalled step can still move the alias.
 */
test('a decision step whose process still runs on this host is in progress though its lease expired: not marked failed, not decided again', async (t) => {
  const { project, logDir, rows, v2 } = await canaryProject(t, (score) => score);
  const live = (await project.db.deployments.getDeployment('flights'))!;
  // Owned by this very process, which runs: its check's lease has run out (there is none), its step has not.
  const stalled = await project.db.metadata.createExecution({ typeName: canaryDecisionComponent.name, stepName: 'canary-decision', parameters: promotingParameters(live.id, rows, v2) as never, codeVersion: readCodeVersion(process.cwd()), state: 'RUNNING', owner: currentOwner() });

  const check = await decideCanaryStage(project.db, { kind: 'parquet', dir: logDir }, canaryRequest('flights', rows));
  assert.ok('inProgress' in check, `the live step is in progress: ${JSON.stringify(check)}`);
  assert.match(check.message, new RegExp(`in progress \\(by process ${process.pid} on host .*, since .*\\): nothing was done`));
  assert.equal((await project.db.metadata.getExecution(stalled.id))?.state, 'RUNNING', 'the live step is not marked failed');
  assert.equal((await project.db.metadata.listExecutions({ typeName: canaryDecisionComponent.name })).items.length, 1, 'nothing was decided anew');
  assert.equal((await project.db.registry.getVersionByAlias('flights', 'champion'))?.version, 1, 'the alias did not move');
  assert.equal((await project.db.deployments.getDeployment('flights'))?.id, live.id, 'the canary was not taken out');
  assert.equal(await project.db.canaryLeases.getLease('flights'), undefined, 'the lease was released');
});
