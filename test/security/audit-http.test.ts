// Deletions over real HTTP on the platform API, on both database backends: nothing a
// client deletes is erased. Deleting an experiment or a run is recorded under the
// authenticated principal (never a claimed name); deleting a model tombstones it, keeps
// its history queryable and its audit entries, and frees its name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequestSecurity } from '../../src/audit/request-security.js';
import type { Platform } from '../../src/platform/platform.js';
import { startPlatformServer } from '../../src/server/server.js';
import { openFreshPostgres, openFreshSqlite, postgresTestUrl } from '../support/databases.js';

const API = '/api/2.0/mlflow';

async function withServer(open: () => Promise<Platform>, body: (call: (path: string, token: string, payload: unknown, method?: string) => Promise<number>, platform: Platform) => Promise<void>): Promise<void> {
  const platform = await open();
  try {
    const security = createRequestSecurity(platform, { required: true, insecureOpen: false }, '127.0.0.1');
    const server = await startPlatformServer({ port: 0, host: '127.0.0.1', db: platform, artifacts: platform.artifacts, security });
    try {
      const call = async (path: string, token: string, payload: unknown, method = 'POST') => {
        const response = await fetch(`${server.url}${API}/${path}`, {
          method,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-loom-actor': 'ceo@company' },
          body: JSON.stringify(payload),
        });
        await response.arrayBuffer();
        return response.status;
      };
      await body(call, platform);
    } finally {
      await server.close();
    }
  } finally {
    await platform.close();
  }
}

function describeDeletions(backend: string, open: () => Promise<Platform>): void {
  describe(`deletions over HTTP keep the record: ${backend}`, () => {
    it('experiment and run deletions are recorded under the principal; a viewer\'s are refused and change nothing', () =>
      withServer(open, async (call, platform) => {
        const { secret: ana } = await platform.tokens.createToken({ subject: 'ana', role: 'editor', createdBy: 'test' });
        const { secret: vic } = await platform.tokens.createToken({ subject: 'vic', role: 'viewer', createdBy: 'test' });
        const experiment = await platform.tracking.createExperiment({ name: 'delays' });
        const run = await platform.tracking.createRun({ experimentId: experiment.experimentId });
        assert.equal(await call('runs/delete', vic, { run_id: run.info.runId }), 403);
        assert.equal((await platform.tracking.getRun(run.info.runId))?.info.lifecycleStage, 'active');
        assert.equal(await call('runs/delete', ana, { run_id: run.info.runId }), 200);
        assert.equal(await call('experiments/delete', ana, { experiment_id: experiment.experimentId }), 200);
        assert.equal(await call('experiments/restore', ana, { experiment_id: experiment.experimentId }), 200);
        assert.equal(await call('experiments/delete', ana, { experiment_id: 'nope' }), 404);
        const entries = (await platform.audit.list()).items;
        assert.deepEqual(entries.map((e) => [e.action, e.actor, e.target, e.after]), [
          ['experiment.restore', 'ana', `experiment ${experiment.experimentId}`, { lifecycleStage: 'active' }],
          ['experiment.delete', 'ana', `experiment ${experiment.experimentId}`, { lifecycleStage: 'deleted' }],
          ['run.delete', 'ana', `run ${run.info.runId}`, { lifecycleStage: 'deleted' }],
        ]);
      }));

    it('deleting a model tombstones it under the principal: its history and audit entries stay, its name is free', () =>
      withServer(open, async (call, platform) => {
        const { secret: root } = await platform.tokens.createToken({ subject: 'root', role: 'admin', createdBy: 'test' });
        const { secret: ed } = await platform.tokens.createToken({ subject: 'ed', role: 'editor', createdBy: 'test' });
        assert.equal(await call('registered-models/create', ed, { name: 'flights' }), 200);
        assert.equal(await call('model-versions/create', ed, { name: 'flights', source: 's1' }), 200);
        assert.equal(await call('registered-models/alias', ed, { name: 'flights', alias: 'champion', version: '1' }), 200);
        assert.equal(await call('registered-models/alias', ed, { name: 'flights', alias: 'champion' }, 'DELETE'), 200);
        assert.equal(await call('registered-models/delete', ed, { name: 'flights' }, 'DELETE'), 403);
        assert.equal(await call('registered-models/delete', root, { name: 'flights' }, 'DELETE'), 200);
        assert.equal(await call('registered-models/get?name=flights', root, undefined, 'GET'), 404);

        const [tombstone] = await platform.registry.modelTombstones('flights');
        assert.deepEqual([tombstone!.deletedBy, tombstone!.versions.map((v) => v.source)], ['root', ['s1']]);
        assert.deepEqual(tombstone!.aliasMoves.map((m) => [m.kind, m.actor]), [['set', 'ed'], ['delete', 'ed']]);
        const history = (await platform.audit.list({ model: 'flights' })).items;
        assert.deepEqual(history.map((e) => [e.action, e.actor]), [['model.delete', 'root'], ['alias.delete', 'ed'], ['alias.set', 'ed'], ['version.create', 'ed'], ['model.create', 'ed']]);
        assert.equal(await call('registered-models/create', ed, { name: 'flights' }), 200, 'the name is free again');
        assert.equal((await platform.audit.verify()).ok, true);
      }));
  });
}

describeDeletions('sqlite', openFreshSqlite);
const url = postgresTestUrl('deletions over HTTP');
if (url) describeDeletions('postgres', () => openFreshPostgres(url));
