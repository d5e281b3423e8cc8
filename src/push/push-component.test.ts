import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentProgress } from '../core/progress.js';
import { openTestPlatform } from '../../test/support/databases.js';
import type { InputArtifact } from '../pipeline/component.js';
import { LocalArtifactStore } from '../store/local-artifact-store.js';
import { makeTempDir } from '../../test/support/flights.js';
import { pushComponent, type PushReport } from './push-component.js';
import type { ModelSignature } from '../registry/types.js';
import type { Principal } from '../auth/types.js';
import { LoomError } from '../core/errors.js';

const signature: ModelSignature = {
  inputs: [
    { name: 'distance', type: 'int64', shape: [-1, 1] },
    { name: 'origin', type: 'string', shape: [-1, 1] },
  ],
  outputs: [{ name: 'probability', type: 'float32', shape: [-1, 1] }],
};

/** Commits a directory of JSON files as an artifact and returns it as an executor sees it. */
async function artifact(store: LocalArtifactStore, id: number, files: Record<string, unknown>): Promise<InputArtifact> {
  const dir = await store.stage();
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), JSON.stringify(content));
  const committed = await store.commit(dir);
  return { id, uri: committed.uri, path: await store.localPath(committed.uri), fingerprint: committed.fingerprint, properties: {} };
}

test('push registers a READY version and moves the alias only when blessed', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const store = new LocalArtifactStore(join(dir, 'artifacts'));
  const services = { registry: db.registry, artifacts: store, progress: silentProgress, log: () => {} };

  async function push(options: { blessed: boolean; reason: string; auc: number | null; alias?: string; modelBytes: string }) {
    const servingModel = await artifact(store, 11, { 'signature.json': signature, 'model.onnx': options.modelBytes });
    const evaluation = await artifact(store, 12, {
      'evaluation.json': { metrics: { auc: options.auc, log_loss: 0.5, row_count: 100 }, baselineMetrics: null, split: 'eval', rowCount: 100 },
    });
    const blessing = await artifact(store, 13, { 'blessing.json': { blessed: options.blessed, reason: options.reason } });
    const pushedDir = join(dir, `pushed-${options.modelBytes}`);
    await mkdir(pushedDir);
    const parameters = pushComponent.parameters.parse({ modelName: 'flights', ...(options.alias && { alias: options.alias }) });
    const result = await pushComponent.execute({
      inputs: { servingModel, evaluation, blessing },
      outputs: { pushed: pushedDir },
      parameters,
      run: { runId: 'run-7', pipelineName: 'flights', stepName: 'push', executionId: 7 },
    }, services);
    const report = JSON.parse(await readFile(join(pushedDir, 'pushed.json'), 'utf8')) as PushReport;
    return { servingModel, result, report };
  }

  const first = await push({ blessed: true, reason: 'no baseline to compare with', auc: 0.71, modelBytes: 'a' });
  assert.deepEqual(first.result.properties.pushed, { modelName: 'flights', version: 1, alias: 'champion' });
  assert.equal(first.report.aliasMoved, true);
  const v1 = await db.registry.getModelVersion('flights', 1);
  assert.ok(v1);
  assert.equal(v1.status, 'READY');
  assert.equal(v1.source, first.servingModel.uri);
  assert.equal(v1.artifactId, 11);
  assert.equal(v1.runId, 'run-7');
  assert.deepEqual(v1.signature, signature);
  assert.deepEqual(v1.metrics, { auc: 0.71, log_loss: 0.5, row_count: 100 });
  assert.equal((await db.registry.getVersionByAlias('flights', 'champion'))?.version, 1);
  const [move] = await db.registry.aliasHistory('flights', 'champion');
  assert.equal(move.actor, 'pipeline');
  assert.match(move.reason, /run-7/);
  assert.match(move.reason, /no baseline/);

  // Not blessed: registered, but the champion stays where it was; an undefined metric is left out.
  const second = await push({ blessed: false, reason: 'not blessed: candidate auc 0.6 vs baseline 0.71', auc: null, modelBytes: 'b' });
  assert.deepEqual(second.result.properties.pushed, { modelName: 'flights', version: 2, alias: '' });
  assert.equal(second.report.aliasMoved, false);
  assert.equal((await db.registry.getModelVersion('flights', 2))?.status, 'READY');
  assert.deepEqual((await db.registry.getModelVersion('flights', 2))?.metrics, { log_loss: 0.5, row_count: 100 });
  assert.equal((await db.registry.getVersionByAlias('flights', 'champion'))?.version, 1);

  // Another alias moves independently.
  const third = await push({ blessed: true, reason: 'blessed: better', auc: 0.8, alias: 'challenger', modelBytes: 'c' });
  assert.equal(third.report.version, 3);
  assert.equal((await db.registry.getVersionByAlias('flights', 'challenger'))?.version, 3);
  assert.equal((await db.registry.getVersionByAlias('flights', 'champion'))?.version, 1);

  // With an approval rule on champion, a blessed push only requests the move; a person approves it.
  await db.registry.setApprovalRule('flights', ['champion']);
  const fourth = await push({ blessed: true, reason: 'blessed: best yet', auc: 0.9, modelBytes: 'd' });
  assert.equal(fourth.report.aliasMoved, false);
  assert.equal(fourth.report.alias, '');
  assert.equal((await db.registry.getVersionByAlias('flights', 'champion'))?.version, 1);
  const [pending] = await db.registry.listAliasRequests('flights', { pendingOnly: true });
  assert.equal(pending.id, fourth.report.approvalRequestId);
  assert.deepEqual([pending.version, pending.requestedBy], [4, 'pipeline']);
  await db.registry.approveAliasMove(pending.id, { actor: 'alice', reason: 'reviewed the model card' });
  assert.equal((await db.registry.getVersionByAlias('flights', 'champion'))?.version, 4);
  assert.equal((await db.registry.getModelVersion('flights', 4))?.lineage.blessed, true);
});

test('a push run for a principal is authorized and recorded under that principal, never as "pipeline"', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const store = new LocalArtifactStore(join(dir, 'artifacts'));
  const inputs = {
    servingModel: await artifact(store, 11, { 'signature.json': signature, 'model.onnx': 'a' }),
    evaluation: await artifact(store, 12, { 'evaluation.json': { metrics: { auc: 0.7 }, baselineMetrics: null, split: 'eval', rowCount: 10 } }),
    blessing: await artifact(store, 13, { 'blessing.json': { blessed: true, reason: 'blessed: first' } }),
  };
  const pushAs = async (principal: Principal) => {
    // The runner of the platform as the principal acts gives every step its guarded registry.
    const { runner } = db.actingAs({ principal, address: 'cli@test', audit: db.audit });
    const pushed = join(dir, `pushed-${principal.subject}`);
    await mkdir(pushed);
    const services = { registry: runner.registry, artifacts: store, progress: silentProgress, log: () => {} };
    const run = { runId: 'run-9', pipelineName: 'flights', stepName: 'push', executionId: 9 };
    return pushComponent.execute({ inputs, outputs: { pushed }, parameters: pushComponent.parameters.parse({ modelName: 'flights' }), run }, services);
  };

  await assert.rejects(pushAs({ subject: 'vic', role: 'viewer', grants: [], source: 'token' }), (e: unknown) => e instanceof LoomError && e.code === 'PERMISSION_DENIED');
  assert.equal(await db.registry.getRegisteredModel('flights'), undefined);
  await pushAs({ subject: 'ana', role: 'editor', grants: [], source: 'token' });
  const [move] = await db.registry.aliasHistory('flights', 'champion');
  assert.deepEqual([move!.actor, move!.version], ['ana', 1]);
  assert.match(move!.reason, /run-9/);
  const entries = (await db.audit.list({ model: 'flights' })).items;
  assert.deepEqual(entries.map((e) => [e.action, e.actor, e.address]), [
    ['alias.set', 'ana', 'cli@test'],
    ['version.create', 'ana', 'cli@test'],
    ['model.create', 'ana', 'cli@test'],
  ]);
});

test('push parameters: modelName is required, alias defaults to champion', () => {
  assert.equal(pushComponent.parameters.parse({ modelName: 'flights' }).alias, 'champion');
  assert.equal(pushComponent.parameters.safeParse({}).success, false);
  assert.equal(pushComponent.parameters.safeParse({ modelName: 'has space' }).success, false);
});
