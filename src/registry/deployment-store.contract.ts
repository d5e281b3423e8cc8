/**
 * The contract every DeploymentStore backend passes. A backend's test file calls
 * `describeDeploymentStoreContract('sqlite', makeStores)`; `makeStores` must give each test
 * empty stores of their own, the registry beside the deployments (a deployment names
 * registered models and pins their versions). How pins meet version deletes is in
 * `version-in-use.test.ts`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import type { DeploymentStore } from './deployment-store.js';
import type { RegistryStore } from './store.js';

/** What a backend's test file hands the contract: fresh stores and how to dispose of them. */
export type MakeDeploymentStores = () => Promise<{ registry: RegistryStore; deployments: DeploymentStore; close(): Promise<void> }>;

const who = { actor: 'ops', reason: 'test' };

/** Registers a model with `versions` READY versions. */
async function registered(registry: RegistryStore, name: string, versions: number): Promise<void> {
  await registry.createRegisteredModel({ name });
  for (let i = 0; i < versions; i++) await registry.createModelVersion({ modelName: name, source: `${name}-${i}`, status: 'READY' });
}

/** Registers the whole DeploymentStore suite under `describe('DeploymentStore contract: <name>')`. */
export function describeDeploymentStoreContract(name: string, makeStores: MakeDeploymentStores): void {
  const test = (title: string, body: (stores: { registry: RegistryStore; deployments: DeploymentStore }) => Promise<void>) =>
    it(title, async () => {
      const { close, ...stores } = await makeStores();
      try {
        await body(stores);
      } finally {
        await close();
      }
    });

  describe(`DeploymentStore contract: ${name}`, () => {
    test('a deployment is recorded whole, with who and why, and is live until the next one', async ({ registry, deployments }) => {
      assert.equal(await deployments.latestId(), 0);
      assert.equal(await deployments.getDeployment('flights'), undefined);
      assert.deepEqual(await deployments.listDeployments(), []);
      await registered(registry, 'flights', 2);
      const first = await deployments.setDeployment(
        { modelName: 'flights', primary: 'flights@1', canary: { ref: 'flights@2', weight: 0.25 }, shadow: 'flights@2', split: 'random', batch: { maxBatchSize: 32, maxWaitMicros: 500 } },
        { actor: 'alice', reason: 'canary 25%' },
      );
      assert.equal(first.modelName, 'flights');
      assert.equal(first.primary, 'flights@1');
      assert.deepEqual(first.canary, { ref: 'flights@2', weight: 0.25 });
      assert.equal(first.shadow, 'flights@2');
      assert.equal(first.split, 'random');
      assert.deepEqual(first.batch, { maxBatchSize: 32, maxWaitMicros: 500 });
      assert.equal(first.replacesId, null);
      assert.deepEqual([first.actor, first.reason], ['alice', 'canary 25%']);
      assert.ok(first.createdAt > 0);
      assert.deepEqual(await deployments.getDeployment('flights'), first);
      assert.equal(await deployments.latestId(), first.id);

      const second = await deployments.setDeployment({ modelName: 'flights', primary: 'flights@2' }, who);
      assert.deepEqual([second.canary, second.shadow, second.split, second.batch, second.replacesId], [null, null, 'hash', {}, first.id]);
      assert.deepEqual(await deployments.getDeployment('flights'), second);
      assert.ok((await deployments.latestId()) > first.id);
      assert.deepEqual((await deployments.history('flights')).map((d) => d.id), [second.id, first.id]);
      assert.deepEqual(await deployments.history('trains'), []);
    });

    test('every model has its own live deployment, listed by name', async ({ registry, deployments }) => {
      for (const model of ['trains', 'flights', 'boats']) await registered(registry, model, 1);
      for (const model of ['trains', 'flights', 'boats']) await deployments.setDeployment({ modelName: model, primary: `${model}@1` }, who);
      const live = await deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion' }, who);
      const listed = await deployments.listDeployments();
      assert.deepEqual(listed.map((d) => d.modelName), ['boats', 'flights', 'trains']);
      assert.deepEqual(listed[1], live);
    });

    test('a deployment that replaces a given one is refused when another has become live since, and changes nothing', async ({ registry, deployments }) => {
      await registered(registry, 'flights', 2);
      const read = await deployments.setDeployment({ modelName: 'flights', primary: 'flights@1', canary: { ref: 'flights@2', weight: 0.1 } }, who);
      const since = await deployments.setDeployment({ modelName: 'flights', primary: 'flights@1', canary: { ref: 'flights@2', weight: 0.5 } }, who);
      await rejectsWithCode(deployments.setDeployment({ modelName: 'flights', primary: 'flights@1' }, who, { replacing: read.id }), 'FAILED_PRECONDITION', 'model');
      assert.deepEqual(await deployments.getDeployment('flights'), since);
      const after = await deployments.setDeployment({ modelName: 'flights', primary: 'flights@1' }, who, { replacing: since.id });
      assert.deepEqual([after.canary, after.replacesId], [null, since.id]);
    });

    test('rollback re-applies the deployment the live one replaced, one step further back each time', async ({ registry, deployments }) => {
      await registered(registry, 'flights', 3);
      const one = await deployments.setDeployment({ modelName: 'flights', primary: 'flights@1' }, who);
      const two = await deployments.setDeployment({ modelName: 'flights', primary: 'flights@2', shadow: 'flights@1' }, who);
      await deployments.setDeployment({ modelName: 'flights', primary: 'flights@3' }, who);
      const back = await deployments.rollback('flights', { actor: 'carol', reason: '' });
      assert.deepEqual([back.primary, back.shadow, back.replacesId, back.actor], ['flights@2', 'flights@1', one.id, 'carol']);
      assert.match(back.reason, /rollback/);
      const further = await deployments.rollback('flights', who);
      assert.deepEqual([further.primary, further.replacesId, further.reason], ['flights@1', null, 'test']);
      assert.ok(further.id > two.id);
      await rejectsWithCode(deployments.rollback('flights', who), 'FAILED_PRECONDITION');
      await rejectsWithCode(deployments.rollback('trains', who), 'NOT_FOUND');
    });

    test('a bad deployment is refused and changes nothing', async ({ registry, deployments }) => {
      await registered(registry, 'flights', 1);
      await rejectsWithCode(deployments.setDeployment({ modelName: 'flights', primary: 'trains@1' }, who), 'INVALID_ARGUMENT', 'primary');
      await rejectsWithCode(deployments.setDeployment({ modelName: 'flights', primary: 'flights@1', canary: { ref: 'flights@1', weight: 1.5 } }, who), 'INVALID_ARGUMENT', 'canary.weight');
      await rejectsWithCode(deployments.setDeployment({ modelName: 'flights', primary: 'not a ref' }, who), 'INVALID_ARGUMENT', 'primary');
      await rejectsWithCode(deployments.setDeployment({ modelName: 'flights', primary: 'flights@1', batch: { maxBatchSize: 0 } }, who), 'INVALID_ARGUMENT', 'batch.maxBatchSize');
      await rejectsWithCode(deployments.setDeployment({ modelName: 'trains', primary: 'trains@1' }, who), 'NOT_FOUND');
      await rejectsWithCode(deployments.setDeployment({ modelName: 'flights', primary: 'flights@7' }, who), 'NOT_FOUND');
      assert.equal(await deployments.latestId(), 0);
    });

    test('deployments made at once all land, each replacing the one before', async ({ registry, deployments }) => {
      await registered(registry, 'flights', 2);
      const made = await Promise.all(Array.from({ length: 8 }, (_, i) => deployments.setDeployment({ modelName: 'flights', primary: `flights@${1 + (i % 2)}` }, who)));
      const history = await deployments.history('flights');
      assert.equal(history.length, 8);
      assert.deepEqual(new Set(history.map((d) => d.id)), new Set(made.map((d) => d.id)));
      for (let i = 0; i < history.length - 1; i++) assert.equal(history[i]!.replacesId, history[i + 1]!.id);
      assert.equal(history.at(-1)!.replacesId, null);
    });
  });
}
