/**
 * The contract every RegistryStore backend passes. A backend's test file calls
 * `describeRegistryStoreContract('sqlite', makeStore)`; `makeStore` must give each test an
 * empty store of its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { describeLifecycleContract } from './store.contract-lifecycle.js';
import { describeTombstoneContract } from './store.contract-tombstones.js';
import type { RegistryStore } from './store.js';

/** What a backend's test file hands the contract: a fresh store and how to dispose of it. */
export type MakeRegistryStore = () => Promise<{ registry: RegistryStore; close(): Promise<void> }>;

const who = { actor: 'ci', reason: 'blessed' };

/** Registers the whole RegistryStore suite under `describe('RegistryStore contract: <name>')`. */
export function describeRegistryStoreContract(name: string, makeStore: MakeRegistryStore): void {
  const test = (title: string, body: (store: RegistryStore) => Promise<void>) =>
    it(title, async () => {
      const { registry, close } = await makeStore();
      try {
        await body(registry);
      } finally {
        await close();
      }
    });

  describe(`RegistryStore contract: ${name}`, () => {
    describe('registered models', () => {
      test('are created once; a second create is ALREADY_EXISTS', async (store) => {
        const model = await store.createRegisteredModel({ name: 'flights', description: 'delay', tags: { team: 'ml' } });
        assert.equal(model.name, 'flights');
        assert.equal(model.description, 'delay');
        assert.deepEqual(model.tags, { team: 'ml' });
        assert.deepEqual(model.aliases, {});
        assert.equal(model.latestVersion, null);
        assert.deepEqual(model.approvalRequiredFor, []);
        assert.ok(model.createdAt > 0 && model.updatedAt >= model.createdAt);
        assert.deepEqual(await store.getRegisteredModel('flights'), model);
        await rejectsWithCode(store.createRegisteredModel({ name: 'flights' }), 'ALREADY_EXISTS');
        assert.equal(await store.getRegisteredModel('nope'), undefined);
        await rejectsWithCode(store.createRegisteredModel({ name: '' }), 'INVALID_ARGUMENT');
        await rejectsWithCode(store.createRegisteredModel({ name: 'a/b' }), 'INVALID_ARGUMENT');
      });

      test('ensureRegisteredModel creates or returns the model', async (store) => {
        const made = await store.ensureRegisteredModel('m');
        const again = await store.ensureRegisteredModel('m');
        assert.deepEqual(again, made);
        const [a, b] = await Promise.all([store.ensureRegisteredModel('n'), store.ensureRegisteredModel('n')]);
        assert.deepEqual(a, b);
      });

      test('are listed by name in pages with their aliases', async (store) => {
        for (const name of ['c', 'a', 'e', 'b', 'd']) await store.createRegisteredModel({ name });
        await store.createModelVersion({ modelName: 'b', source: 's' });
        await store.setAlias('b', 'champion', 1, who);
        const first = await store.listRegisteredModels({ pageSize: 3 });
        assert.deepEqual(first.items.map((m) => m.name), ['a', 'b', 'c']);
        assert.deepEqual(first.items[1].aliases, { champion: 1 });
        assert.equal(first.items[1].latestVersion, 1);
        const second = await store.listRegisteredModels({ pageSize: 3, pageToken: first.nextPageToken });
        assert.deepEqual(second.items.map((m) => m.name), ['d', 'e']);
        assert.equal(second.nextPageToken, undefined);
        await rejectsWithCode(store.listRegisteredModels({ pageToken: '???' }), 'INVALID_ARGUMENT');
      });
    });

    describe('model versions', () => {
      test('are numbered 1, 2, 3 and keep what they were given', async (store) => {
        await store.createRegisteredModel({ name: 'm' });
        const v1 = await store.createModelVersion({
          modelName: 'm',
          source: 'loom-artifact://sha256/aa',
          artifactId: 7,
          runId: 'run-1',
          description: 'first',
          signature: { inputs: [{ name: 'distance', type: 'float32', shape: [-1, 1] }], outputs: [{ name: 'p', type: 'float32', shape: [-1] }] },
          metrics: { auc: 0.81 },
          tags: { data: 'jan' },
          properties: { rows: 100 },
        });
        assert.equal(v1.version, 1);
        assert.equal(v1.status, 'READY');
        assert.equal(v1.artifactId, 7);
        assert.equal(v1.runId, 'run-1');
        assert.deepEqual(v1.metrics, { auc: 0.81 });
        assert.equal(v1.signature?.inputs[0].name, 'distance');
        assert.deepEqual(await store.getModelVersion('m', 1), v1);
        const v2 = await store.createModelVersion({ modelName: 'm', source: 's2', status: 'PENDING_REGISTRATION' });
        const v3 = await store.createModelVersion({ modelName: 'm', source: 's3' });
        assert.deepEqual([v2.version, v3.version], [2, 3]);
        assert.equal(v2.artifactId, null);
        assert.equal(v2.signature, null);
        assert.equal((await store.getRegisteredModel('m'))?.latestVersion, 3);
        assert.equal(await store.getModelVersion('m', 4), undefined);
        assert.equal(await store.getModelVersion('ghost', 1), undefined);
      });

      test('for an unknown model are NOT_FOUND, and bad fields INVALID_ARGUMENT', async (store) => {
        await rejectsWithCode(store.createModelVersion({ modelName: 'ghost', source: 's' }), 'NOT_FOUND');
        await store.createRegisteredModel({ name: 'm' });
        await rejectsWithCode(store.createModelVersion({ modelName: 'm', source: 's', metrics: { auc: Number.NaN } }), 'INVALID_ARGUMENT');
        await rejectsWithCode(store.createModelVersion({ modelName: 'm', source: 's', status: 'GONE' as 'READY' }), 'INVALID_ARGUMENT');
        // A rejected version takes no number.
        assert.equal((await store.createModelVersion({ modelName: 'm', source: 's' })).version, 1);
      });

      test('created concurrently never share a number', async (store) => {
        await store.createRegisteredModel({ name: 'm' });
        const made = await Promise.all(Array.from({ length: 20 }, (_, i) => store.createModelVersion({ modelName: 'm', source: `s${i}` })));
        assert.deepEqual(made.map((v) => v.version).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      });

      test('are listed newest first in pages', async (store) => {
        await store.createRegisteredModel({ name: 'm' });
        for (let i = 0; i < 5; i++) await store.createModelVersion({ modelName: 'm', source: `s${i}` });
        const first = await store.listModelVersions('m', { pageSize: 2 });
        const second = await store.listModelVersions('m', { pageSize: 2, pageToken: first.nextPageToken });
        const third = await store.listModelVersions('m', { pageSize: 2, pageToken: second.nextPageToken });
        assert.deepEqual([...first.items, ...second.items, ...third.items].map((v) => v.version), [5, 4, 3, 2, 1]);
        assert.equal(third.nextPageToken, undefined);
        await rejectsWithCode(store.listModelVersions('ghost', {}), 'NOT_FOUND');
      });
    });

    describe('aliases', () => {
      test('point at READY versions, and each move is recorded with the previous version', async (store) => {
        await store.createRegisteredModel({ name: 'm' });
        for (let i = 0; i < 3; i++) await store.createModelVersion({ modelName: 'm', source: `s${i}` });
        const first = await store.setAlias('m', 'champion', 1, { actor: 'alice', reason: 'first' });
        assert.deepEqual({ ...first, movedAt: 0 }, {
          modelName: 'm', alias: 'champion', version: 1, previousVersion: null, actor: 'alice', reason: 'first', movedAt: 0, kind: 'set',
        });
        const second = await store.setAlias('m', 'champion', 3, { actor: 'bob', reason: 'better auc' });
        assert.equal(second.previousVersion, 1);
        assert.equal(second.version, 3);
        await store.setAlias('m', 'challenger', 2, who);
        assert.equal((await store.getVersionByAlias('m', 'champion'))?.version, 3);
        assert.equal((await store.getVersionByAlias('m', 'challenger'))?.source, 's1');
        assert.equal(await store.getVersionByAlias('m', 'nope'), undefined);
        assert.equal(await store.getVersionByAlias('ghost', 'champion'), undefined);
        assert.deepEqual((await store.getRegisteredModel('m'))?.aliases, { champion: 3, challenger: 2 });
      });

      test('fail for an unknown model or version, a version not READY, or a bad name', async (store) => {
        await store.createRegisteredModel({ name: 'm' });
        await store.createModelVersion({ modelName: 'm', source: 's' });
        await store.createModelVersion({ modelName: 'm', source: 's', status: 'PENDING_REGISTRATION' });
        await store.createModelVersion({ modelName: 'm', source: 's', status: 'FAILED_REGISTRATION' });
        await rejectsWithCode(store.setAlias('ghost', 'champion', 1, who), 'NOT_FOUND');
        await rejectsWithCode(store.setAlias('m', 'champion', 9, who), 'NOT_FOUND');
        await rejectsWithCode(store.setAlias('m', 'champion', 2, who), 'FAILED_PRECONDITION');
        await rejectsWithCode(store.setAlias('m', 'champion', 3, who), 'FAILED_PRECONDITION');
        await rejectsWithCode(store.setAlias('m', '7', 1, who), 'INVALID_ARGUMENT');
        await rejectsWithCode(store.setAlias('m', 'has space', 1, who), 'INVALID_ARGUMENT');
        assert.deepEqual(await store.aliasHistory('m', 'champion'), []);
        assert.deepEqual((await store.getRegisteredModel('m'))?.aliases, {});
      });

      test('are deleted with a recorded move, and the history lists moves newest first', async (store) => {
        await store.createRegisteredModel({ name: 'm' });
        await store.createModelVersion({ modelName: 'm', source: 's1' });
        await store.createModelVersion({ modelName: 'm', source: 's2' });
        await store.setAlias('m', 'champion', 1, who);
        await store.setAlias('m', 'champion', 2, who);
        const removed = await store.deleteAlias('m', 'champion', { actor: 'ops', reason: 'rollback drill' });
        assert.equal(removed.version, null);
        assert.equal(removed.previousVersion, 2);
        assert.equal(await store.getVersionByAlias('m', 'champion'), undefined);
        assert.deepEqual((await store.getRegisteredModel('m'))?.aliases, {});
        await rejectsWithCode(store.deleteAlias('m', 'champion', who), 'NOT_FOUND');
        await rejectsWithCode(store.deleteAlias('ghost', 'champion', who), 'NOT_FOUND');

        const history = await store.aliasHistory('m', 'champion');
        assert.deepEqual(history.map((m) => [m.version, m.previousVersion]), [[null, 2], [2, 1], [1, null]]);
        assert.deepEqual(history.map((m) => m.actor), ['ops', 'ci', 'ci']);
        assert.ok(history[0].movedAt >= history[2].movedAt);
        assert.deepEqual(await store.aliasHistory('m', 'other'), []);
      });
    });

    describeLifecycleContract(test);
    describeTombstoneContract(test);
  });
}
