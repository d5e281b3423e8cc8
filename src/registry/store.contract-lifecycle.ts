/**
 * The second half of the RegistryStore contract: editing models and versions, search,
 * archive and delete, rollback and the approval rule. Every refusal is checked to change nothing.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import type { RegistryStore } from './store.js';

type StoreTest = (title: string, body: (store: RegistryStore) => Promise<void>) => void;

const who = { actor: 'ci', reason: 'test' };

/** A model `m` with `count` READY versions. */
async function modelWithVersions(store: RegistryStore, count: number, name = 'm'): Promise<void> {
  await store.createRegisteredModel({ name });
  for (let i = 1; i <= count; i++) await store.createModelVersion({ modelName: name, source: `s${i}`, runId: `run-${i}` });
}

export function describeLifecycleContract(test: StoreTest): void {
  describe('editing models', () => {
    test('description and tags change; a missing tag is NOT_FOUND', async (store) => {
      await store.createRegisteredModel({ name: 'm', tags: { team: 'ml' } });
      assert.equal((await store.updateRegisteredModel('m', { description: 'delays' })).description, 'delays');
      assert.deepEqual((await store.setRegisteredModelTag('m', 'owner', 'ana')).tags, { owner: 'ana', team: 'ml' });
      assert.deepEqual((await store.deleteRegisteredModelTag('m', 'team')).tags, { owner: 'ana' });
      await rejectsWithCode(store.deleteRegisteredModelTag('m', 'team'), 'NOT_FOUND');
      await rejectsWithCode(store.setRegisteredModelTag('m', '', 'x'), 'INVALID_ARGUMENT');
      await rejectsWithCode(store.setRegisteredModelTag('ghost', 'k', 'v'), 'NOT_FOUND');
      await rejectsWithCode(store.updateRegisteredModel('ghost', { description: 'x' }), 'NOT_FOUND');
      // Concurrent tag writes all land (each is a read-modify-write under the model lock).
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.setRegisteredModelTag('m', `k${i}`, String(i))));
      assert.equal(Object.keys((await store.getRegisteredModel('m'))!.tags).length, 11);
    });

    test('rename keeps versions and aliases; a taken name is ALREADY_EXISTS', async (store) => {
      await modelWithVersions(store, 2);
      await store.createRegisteredModel({ name: 'taken' });
      await store.setAlias('m', 'champion', 2, who);
      const renamed = await store.renameRegisteredModel('m', 'flights');
      assert.deepEqual([renamed.name, renamed.latestVersion, renamed.aliases], ['flights', 2, { champion: 2 }]);
      assert.equal((await store.getModelVersion('flights', 1))?.source, 's1');
      assert.equal(await store.getRegisteredModel('m'), undefined);
      await rejectsWithCode(store.renameRegisteredModel('flights', 'taken'), 'ALREADY_EXISTS');
      await rejectsWithCode(store.renameRegisteredModel('flights', 'bad name'), 'INVALID_ARGUMENT');
    });

    test('delete refuses a model with aliases, then removes it with its versions', async (store) => {
      await modelWithVersions(store, 2);
      await store.setAlias('m', 'champion', 1, who);
      await rejectsWithCode(store.deleteRegisteredModel('m'), 'FAILED_PRECONDITION');
      assert.equal((await store.getModelVersion('m', 1))?.version, 1);
      await store.deleteAlias('m', 'champion', who);
      const tombstone = await store.deleteRegisteredModel('m');
      // The deletion hands back everything it removed, for the audit log to keep.
      assert.equal(tombstone.model.name, 'm');
      assert.deepEqual(tombstone.versions.map((v) => [v.version, v.source]), [[1, 's1'], [2, 's2']]);
      assert.deepEqual(tombstone.aliasMoves.map((m) => [m.kind, m.version, m.actor]), [['set', 1, 'ci'], ['delete', null, 'ci']]);
      assert.ok(tombstone.deletedAt >= tombstone.model.createdAt);
      assert.equal(await store.getRegisteredModel('m'), undefined);
      assert.equal(await store.getModelVersion('m', 1), undefined);
      await rejectsWithCode(store.deleteRegisteredModel('m'), 'NOT_FOUND');
      // The name is free again and numbering starts over.
      await modelWithVersions(store, 1);
      assert.deepEqual(await store.aliasHistory('m', 'champion'), []);
    });

    test('are filtered by exact name, case-sensitive LIKE and ILIKE, in pages', async (store) => {
      for (const name of ['flights', 'Flights-eu', 'flights_us', 'taxi']) await store.createRegisteredModel({ name });
      const names = async (filter: object, pageSize = 100) => (await store.listRegisteredModels({ pageSize, filter })).items.map((m) => m.name);
      assert.deepEqual(await names({ nameLike: 'fl%' }), ['flights', 'flights_us']);
      assert.deepEqual(await names({ nameILike: 'FL%' }), ['Flights-eu', 'flights', 'flights_us']);
      assert.deepEqual(await names({ nameLike: '%s\\_us' }), ['flights_us']);
      assert.deepEqual(await names({ nameLike: 'flight\\_' }), []);
      assert.deepEqual(await names({ nameILike: 'FLIGHTS\\_%' }), ['flights_us']);
      assert.deepEqual(await names({ nameLike: 'flights_us' }), ['flights_us']);
      assert.deepEqual(await names({ nameLike: 'flight_' }), ['flights']);
      assert.deepEqual(await names({ name: 'taxi' }), ['taxi']);
      await store.setRegisteredModelTag('taxi', 'mlflow.prompt.is_prompt', 'true');
      await store.setRegisteredModelTag('flights', 'team', 'ml');
      assert.deepEqual(await names({ tags: [{ key: 'mlflow.prompt.is_prompt', op: '!=', value: 'true' }] }), ['Flights-eu', 'flights', 'flights_us']);
      assert.deepEqual(await names({ nameILike: '%s%', tags: [{ key: 'team', op: '=', value: 'ml' }] }), ['flights']);
      const first = await store.listRegisteredModels({ pageSize: 1, filter: { nameILike: '%flights%' } });
      const second = await store.listRegisteredModels({ pageSize: 5, pageToken: first.nextPageToken, filter: { nameILike: '%flights%' } });
      assert.deepEqual([...first.items, ...second.items].map((m) => m.name), ['Flights-eu', 'flights', 'flights_us']);
    });
  });

  describe('editing versions', () => {
    test('carry lineage; status moves only out of PENDING_REGISTRATION', async (store) => {
      await store.createRegisteredModel({ name: 'm' });
      const lineage = { evaluationUri: 'loom-artifact://e', blessed: true };
      const v1 = await store.createModelVersion({ modelName: 'm', source: 's', lineage, status: 'PENDING_REGISTRATION' });
      assert.deepEqual(v1.lineage, lineage);
      assert.equal(v1.archivedAt, null);
      assert.equal(v1.updatedAt, v1.createdAt);
      const v2 = await store.createModelVersion({ modelName: 'm', source: 's', lineage: { evaluationUri: 'loom-artifact://e' } });
      assert.deepEqual(v2.lineage, { evaluationUri: 'loom-artifact://e', blessed: null });
      await rejectsWithCode(store.createModelVersion({ modelName: 'm', source: 's', lineage: { dataset: 'x' } as object }), 'INVALID_ARGUMENT');
      // What the version was made from is the metadata store's lineage, not a registry field.
      await rejectsWithCode(store.createModelVersion({ modelName: 'm', source: 's', lineage: { transformUri: 'loom-artifact://t' } as object }), 'INVALID_ARGUMENT');
      await rejectsWithCode(store.createModelVersion({ modelName: 'm', source: 's', lineage: { evaluationUri: '' } }), 'INVALID_ARGUMENT');

      const ready = await store.updateModelVersion('m', 1, { status: 'READY', description: 'checked' });
      assert.deepEqual([ready.status, ready.description], ['READY', 'checked']);
      await rejectsWithCode(store.updateModelVersion('m', 1, { status: 'FAILED_REGISTRATION' }), 'FAILED_PRECONDITION');
      await rejectsWithCode(store.updateModelVersion('m', 1, { status: 'GONE' as 'READY' }), 'INVALID_ARGUMENT');
      await rejectsWithCode(store.updateModelVersion('m', 9, { description: 'x' }), 'NOT_FOUND');
      assert.equal((await store.getModelVersion('m', 1))?.status, 'READY');
    });

    test('tags are set and deleted', async (store) => {
      await modelWithVersions(store, 1);
      assert.deepEqual((await store.setModelVersionTag('m', 1, 'validated', 'yes')).tags, { validated: 'yes' });
      assert.deepEqual((await store.deleteModelVersionTag('m', 1, 'validated')).tags, {});
      await rejectsWithCode(store.deleteModelVersionTag('m', 1, 'validated'), 'NOT_FOUND');
      await rejectsWithCode(store.setModelVersionTag('m', 2, 'k', 'v'), 'NOT_FOUND');
    });

    test('are searched across models, newest first, by name, run and archive state', async (store) => {
      await modelWithVersions(store, 3, 'a');
      await modelWithVersions(store, 2, 'b');
      const all = await store.searchModelVersions({ pageSize: 2 });
      const rest = await store.searchModelVersions({ pageSize: 10, pageToken: all.nextPageToken });
      assert.deepEqual([...all.items, ...rest.items].map((v) => `${v.modelName}/${v.version}`), ['b/2', 'b/1', 'a/3', 'a/2', 'a/1']);
      assert.deepEqual((await store.searchModelVersions({ filter: { name: 'a', runId: 'run-2' } })).items.map((v) => v.version), [2]);
      await store.archiveModelVersion('a', 3);
      assert.deepEqual((await store.searchModelVersions({ filter: { name: 'a', excludeArchived: true } })).items.map((v) => v.version), [2, 1]);
      assert.deepEqual((await store.latestVersions('a')).map((v) => [v.version, v.archivedAt !== null]), [[3, true], [2, false]]);
      assert.deepEqual((await store.latestVersions('b')).map((v) => v.version), [2]);
      await rejectsWithCode(store.latestVersions('ghost'), 'NOT_FOUND');
      // Several models at once (one query, for listings): the same answers, unknown and empty models left out.
      await store.createRegisteredModel({ name: 'empty' });
      const many = await store.latestVersionsOf(['b', 'a', 'ghost', 'empty']);
      assert.deepEqual([...many.keys()].sort(), ['a', 'b']);
      assert.deepEqual(many.get('a')!.map((v) => [v.version, v.archivedAt !== null]), [[3, true], [2, false]]);
      assert.deepEqual(many.get('b'), await store.latestVersions('b'));
      assert.deepEqual((await store.getRegisteredModels(['b', 'ghost', 'a'])).map((m) => m.name), ['a', 'b']);
    });
  });

  describe('archive and delete', () => {
    test('archive and restore record who and why, newest first; a no-op records nothing', async (store) => {
      await modelWithVersions(store, 2);
      await store.archiveModelVersion('m', 2, { actor: 'ann', reason: 'trained on the broken January export' });
      await store.archiveModelVersion('m', 2, { actor: 'bob', reason: 'again' });
      await store.restoreModelVersion('m', 2, { actor: 'cid', reason: 'export fixed' });
      await store.archiveModelVersion('m', 1);
      const changes = await store.versionChanges('m');
      assert.deepEqual(changes.map((c) => [c.version, c.kind, c.actor, c.reason]), [
        [1, 'archive', 'unknown', ''],
        [2, 'restore', 'cid', 'export fixed'],
        [2, 'archive', 'ann', 'trained on the broken January export'],
      ]);
      assert.ok(changes.every((c) => c.modelName === 'm' && c.changedAt > 0));
      await rejectsWithCode(store.archiveModelVersion('m', 2, { actor: '', reason: 'nobody' }), 'INVALID_ARGUMENT', 'actor');
      assert.equal((await store.getModelVersion('m', 2))?.archivedAt, null, 'a refused archive changes nothing');
      await rejectsWithCode(store.versionChanges('ghost'), 'NOT_FOUND');
      await store.renameRegisteredModel('m', 'n');
      assert.equal((await store.versionChanges('n')).length, 3, 'the history follows a rename');
    });

    test('an archived version takes no alias; an aliased one cannot be archived', async (store) => {
      await modelWithVersions(store, 2);
      await store.setAlias('m', 'champion', 1, who);
      await rejectsWithCode(store.archiveModelVersion('m', 1), 'FAILED_PRECONDITION');
      assert.equal((await store.getModelVersion('m', 1))?.archivedAt, null);
      const archived = await store.archiveModelVersion('m', 2);
      assert.ok(archived.archivedAt !== null);
      await rejectsWithCode(store.setAlias('m', 'challenger', 2, who), 'FAILED_PRECONDITION');
      await rejectsWithCode(store.requestAliasMove('m', 'challenger', 2, who), 'FAILED_PRECONDITION');
      assert.equal((await store.restoreModelVersion('m', 2)).archivedAt, null);
      assert.equal((await store.setAlias('m', 'challenger', 2, who)).version, 2);
    });

    test('delete refuses a version an alias uses and changes nothing; otherwise the number is never reused', async (store) => {
      await modelWithVersions(store, 2);
      await store.setAlias('m', 'champion', 2, who);
      assert.deepEqual(await store.isVersionInUse('m', 2), { inUse: true, aliases: ['champion'], deployments: [] });
      assert.deepEqual(await store.isVersionInUse('m', 1), { inUse: false, aliases: [], deployments: [] });
      await rejectsWithCode(store.isVersionInUse('m', 7), 'NOT_FOUND');
      await rejectsWithCode(store.deleteModelVersion('m', 2), 'FAILED_PRECONDITION');
      assert.equal((await store.getModelVersion('m', 2))?.source, 's2');
      assert.deepEqual((await store.getRegisteredModel('m'))?.aliases, { champion: 2 });
      await store.deleteModelVersion('m', 1);
      assert.equal(await store.getModelVersion('m', 1), undefined);
      await rejectsWithCode(store.deleteModelVersion('m', 1), 'NOT_FOUND');
      assert.equal((await store.createModelVersion({ modelName: 'm', source: 's3' })).version, 3);
    });
  });

  describe('rollback', () => {
    test('walks back through earlier holders, skipping ones that can no longer serve', async (store) => {
      await modelWithVersions(store, 4);
      for (const v of [1, 2, 3, 4]) await store.setAlias('m', 'champion', v, who);
      const back = await store.rollbackAlias('m', 'champion', { actor: 'ops', reason: 'latency regression' });
      assert.deepEqual([back.version, back.previousVersion, back.kind, back.actor], [3, 4, 'rollback', 'ops']);
      await store.archiveModelVersion('m', 4);
      await store.deleteAlias('m', 'challenger', who).catch(() => {});
      // 2 is deleted after losing the alias: the next rollback passes over it to 1.
      await store.setAlias('m', 'champion', 3, who);
      const again = await store.rollbackAlias('m', 'champion', who);
      assert.equal(again.version, 2);
      await store.setAlias('m', 'champion', 3, who);
      await store.deleteModelVersion('m', 2);
      const skipping = await store.rollbackAlias('m', 'champion', who);
      assert.equal(skipping.version, 1);
      assert.match(skipping.reason, /2/);
      await rejectsWithCode(store.rollbackAlias('m', 'champion', who), 'FAILED_PRECONDITION');
      assert.equal((await store.getVersionByAlias('m', 'champion'))?.version, 1);
      await rejectsWithCode(store.rollbackAlias('m', 'nobody', who), 'FAILED_PRECONDITION');
      await rejectsWithCode(store.rollbackAlias('ghost', 'champion', who), 'NOT_FOUND');
    });

    test('after the alias was removed, brings back the last holder', async (store) => {
      await modelWithVersions(store, 2);
      await store.setAlias('m', 'champion', 1, who);
      await store.setAlias('m', 'champion', 2, who);
      await store.deleteAlias('m', 'champion', who);
      assert.equal((await store.rollbackAlias('m', 'champion', who)).version, 2);
      assert.equal((await store.rollbackAlias('m', 'champion', who)).version, 1);
      assert.deepEqual((await store.aliasHistory('m', 'champion')).map((m) => m.kind), ['rollback', 'rollback', 'delete', 'set', 'set']);
    });
  });

  describe('approval rule', () => {
    test('a protected alias moves only when a second person approves a request', async (store) => {
      await modelWithVersions(store, 3);
      await store.setAlias('m', 'champion', 1, who);
      assert.deepEqual((await store.setApprovalRule('m', ['champion', 'champion'])).approvalRequiredFor, ['champion']);
      await rejectsWithCode(store.setApprovalRule('m', ['7']), 'INVALID_ARGUMENT');

      await rejectsWithCode(store.setAlias('m', 'champion', 2, who), 'FAILED_PRECONDITION');
      await rejectsWithCode(store.deleteAlias('m', 'champion', who), 'FAILED_PRECONDITION');
      await rejectsWithCode(store.rollbackAlias('m', 'champion', who), 'FAILED_PRECONDITION');
      assert.equal((await store.getVersionByAlias('m', 'champion'))?.version, 1);
      assert.equal((await store.aliasHistory('m', 'champion')).length, 1);
      assert.equal((await store.setAlias('m', 'challenger', 2, who)).version, 2);

      const request = await store.requestAliasMove('m', 'champion', 2, { actor: 'bob', reason: 'auc +0.02' });
      assert.deepEqual([request.state, request.requestedBy, request.version, request.decidedBy], ['PENDING', 'bob', 2, null]);
      await rejectsWithCode(store.approveAliasMove(request.id, { actor: 'bob', reason: 'self' }), 'FAILED_PRECONDITION');
      await rejectsWithCode(store.approveAliasMove(request.id, { actor: ' Bob', reason: 'same person, other spelling' }), 'FAILED_PRECONDITION');
      assert.deepEqual(await store.getAliasRequest(request.id), request);
      assert.equal(await store.getAliasRequest(9999), undefined);
      assert.equal((await store.listAliasRequests('m', { pendingOnly: true }))[0]?.state, 'PENDING');
      assert.equal((await store.getVersionByAlias('m', 'champion'))?.version, 1);

      const { request: approved, move } = await store.approveAliasMove(request.id, { actor: 'alice', reason: 'read the model card' });
      assert.deepEqual([approved.state, approved.decidedBy], ['APPROVED', 'alice']);
      assert.deepEqual([move.version, move.previousVersion, move.kind, move.actor], [2, 1, 'approved', 'alice']);
      assert.match(move.reason, /bob/);
      assert.equal((await store.getVersionByAlias('m', 'champion'))?.version, 2);
      await rejectsWithCode(store.approveAliasMove(request.id, { actor: 'carol', reason: '' }), 'FAILED_PRECONDITION');
      await rejectsWithCode(store.approveAliasMove(9999, { actor: 'carol', reason: '' }), 'NOT_FOUND');
    });

    test('requests are checked on approval too, and can be rejected', async (store) => {
      await modelWithVersions(store, 3);
      await store.createModelVersion({ modelName: 'm', source: 'bad', status: 'FAILED_REGISTRATION' });
      await store.setApprovalRule('m', ['champion']);
      await rejectsWithCode(store.requestAliasMove('m', 'champion', 4, who), 'FAILED_PRECONDITION');
      await rejectsWithCode(store.requestAliasMove('m', 'champion', 9, who), 'NOT_FOUND');

      const stale = await store.requestAliasMove('m', 'champion', 3, { actor: 'bob', reason: '' });
      await store.archiveModelVersion('m', 3);
      await rejectsWithCode(store.approveAliasMove(stale.id, { actor: 'alice', reason: '' }), 'FAILED_PRECONDITION');
      assert.equal(await store.getVersionByAlias('m', 'champion'), undefined);
      const rejected = await store.rejectAliasMove(stale.id, { actor: 'alice', reason: 'archived' });
      assert.deepEqual([rejected.state, rejected.decidedBy], ['REJECTED', 'alice']);
      await rejectsWithCode(store.rejectAliasMove(stale.id, who), 'FAILED_PRECONDITION');
      assert.deepEqual(await store.listAliasRequests('m', { pendingOnly: true }), []);
      assert.equal((await store.listAliasRequests('m')).length, 1);

      // A model under a rule keeps its name: renaming it would free the protected name@alias for a model without the rule.
      await rejectsWithCode(store.renameRegisteredModel('m', 'm-old'), 'FAILED_PRECONDITION', 'name');
      assert.equal((await store.getRegisteredModel('m'))?.approvalRequiredFor[0], 'champion');

      // Lifting the rule lets the alias move directly again.
      await store.setApprovalRule('m', []);
      assert.equal((await store.setAlias('m', 'champion', 1, who)).version, 1);
    });
  });
}
