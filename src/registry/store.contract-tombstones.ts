/**
 * The RegistryStore contract on deletion: nothing is erased. A deleted model or version
 * disappears from every listing and lookup, is marked with who deleted it and when, and
 * keeps its versions, alias moves and requests, readable with `modelTombstones`; the name
 * is free for a new model (as in MLflow) without the old history leaking into it.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import type { RegistryStore } from './store.js';

type StoreTest = (title: string, body: (store: RegistryStore) => Promise<void>) => void;

const ci = { actor: 'ci', reason: 'test' };

export function describeTombstoneContract(test: StoreTest): void {
  describe('deletion tombstones', () => {
    test('a deleted model vanishes from lookups and listings and keeps its history, under the deleter\'s name', async (store) => {
      await store.createRegisteredModel({ name: 'm' });
      await store.createRegisteredModel({ name: 'other' });
      for (const source of ['s1', 's2']) await store.createModelVersion({ modelName: 'm', source });
      await store.setAlias('m', 'champion', 2, ci);
      await store.deleteAlias('m', 'champion', ci);
      await store.setApprovalRule('m', ['prod']);
      await store.requestAliasMove('m', 'prod', 1, ci);
      await store.deleteModelVersion('m', 1, { actor: 'ana', reason: 'bad data' });
      const deleted = await store.deleteRegisteredModel('m', { actor: 'root', reason: 'retired' });
      assert.deepEqual([deleted.model.name, deleted.deletedBy, deleted.versions.map((v) => v.version)], ['m', 'root', [1, 2]]);

      assert.equal(await store.getRegisteredModel('m'), undefined);
      assert.deepEqual((await store.listRegisteredModels({ pageSize: 100 })).items.map((m) => m.name), ['other']);
      assert.deepEqual((await store.searchModelVersions({ pageSize: 100 })).items, []);
      assert.equal(await store.getModelVersion('m', 2), undefined);
      await rejectsWithCode(store.listModelVersions('m', { pageSize: 10 }), 'NOT_FOUND');
      await rejectsWithCode(store.createModelVersion({ modelName: 'm', source: 's3' }), 'NOT_FOUND');
      await rejectsWithCode(store.deleteRegisteredModel('m'), 'NOT_FOUND');
      const request = (await store.modelTombstones('m'))[0]!.requests[0]!;
      assert.equal(await store.getAliasRequest(request.id), undefined);
      await rejectsWithCode(store.approveAliasMove(request.id, { actor: 'bob', reason: '' }), 'NOT_FOUND');
      assert.deepEqual(await store.getRegisteredModels([`m@deleted-1`, 'm']), []);

      // The name is free again: a new model starts over, and the old one's history stays apart.
      await store.createRegisteredModel({ name: 'm' });
      assert.equal((await store.createModelVersion({ modelName: 'm', source: 'new' })).version, 1);
      assert.deepEqual(await store.aliasHistory('m', 'champion'), []);
      await store.deleteRegisteredModel('m', ci);
      const [newest, oldest] = await store.modelTombstones('m');
      assert.deepEqual(newest!.versions.map((v) => v.source), ['new']);
      assert.deepEqual([oldest!.model.name, oldest!.deletedBy, oldest!.model.approvalRequiredFor], ['m', 'root', ['prod']]);
      assert.deepEqual(oldest!.versions.map((v) => [v.modelName, v.version, v.source]), [['m', 1, 's1'], ['m', 2, 's2']]);
      assert.deepEqual(oldest!.aliasMoves.map((m) => [m.kind, m.version, m.actor]), [['set', 2, 'ci'], ['delete', null, 'ci']]);
      assert.deepEqual(oldest!.requests.map((r) => [r.alias, r.version, r.state]), [['prod', 1, 'PENDING']]);
      assert.ok(oldest!.deletedAt >= oldest!.model.createdAt);
      assert.deepEqual(await store.modelTombstones('other'), []);
    });

    test('a deleted version vanishes from lookups, cannot carry an alias, and its number is never reused', async (store) => {
      await store.createRegisteredModel({ name: 'm' });
      for (const source of ['s1', 's2']) await store.createModelVersion({ modelName: 'm', source });
      await store.deleteModelVersion('m', 2, ci);
      assert.equal(await store.getModelVersion('m', 2), undefined);
      assert.deepEqual((await store.listModelVersions('m', { pageSize: 10 })).items.map((v) => v.version), [1]);
      assert.deepEqual((await store.latestVersions('m')).map((v) => v.version), [1]);
      await rejectsWithCode(store.setAlias('m', 'champion', 2, ci), 'NOT_FOUND');
      await rejectsWithCode(store.isVersionInUse('m', 2), 'NOT_FOUND');
      await rejectsWithCode(store.archiveModelVersion('m', 2, ci), 'NOT_FOUND');
      await rejectsWithCode(store.deleteModelVersion('m', 2, ci), 'NOT_FOUND');
      assert.equal((await store.createModelVersion({ modelName: 'm', source: 's3' })).version, 3);
    });
  });
}
