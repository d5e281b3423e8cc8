/**
 * The contract every MetadataStore backend passes. A backend's test file calls
 * `describeMetadataStoreContract('sqlite', makeStore)`; `makeStore` must give each test an
 * empty store of its own. Publishing, caching and lineage are in `store.contract-publish.ts`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newExecution, putTestTypes, rejectsWithCode, withStore, type MakeMetadataStore } from './contract-helpers.js';
import { describeExecutionLogContract } from './store.contract-log.js';
import { describeOwnerContract } from './store.contract-owners.js';
import { describePublishContract } from './store.contract-publish.js';
import type { MetadataStore } from './store.js';

export type { MakeMetadataStore };

/** Registers the whole MetadataStore suite under `describe('MetadataStore contract: <name>')`. */
export function describeMetadataStoreContract(name: string, makeStore: MakeMetadataStore): void {
  const test = (title: string, body: (store: MetadataStore) => Promise<void>) => it(title, withStore(makeStore, body));

  describe(`MetadataStore contract: ${name}`, () => {
    describe('artifact types', () => {
      test('are registered once and returned again when the properties match', async (store) => {
        const first = await store.putArtifactType({ name: 'Examples', description: 'x', properties: { rows: 'INT' } });
        assert.ok(first.id > 0);
        assert.deepEqual(first.properties, { rows: 'INT' });
        const again = await store.putArtifactType({ name: 'Examples', description: 'x', properties: { rows: 'INT' } });
        assert.equal(again.id, first.id);
        assert.deepEqual(await store.getArtifactType('Examples'), first);
        assert.equal(await store.getArtifactType('Nope'), undefined);
      });

      test('evolve by adding or leaving out properties, but a property never changes kind', async (store) => {
        await store.putArtifactType({ name: 'Examples', description: '', properties: { rows: 'INT' } });
        await rejectsWithCode(store.putArtifactType({ name: 'Examples', description: '', properties: { rows: 'DOUBLE' } }), 'ALREADY_EXISTS');
        const grown = await store.putArtifactType({ name: 'Examples', description: '', properties: { span: 'INT' } });
        assert.deepEqual(grown.properties, { rows: 'INT', span: 'INT' });
        assert.deepEqual((await store.getArtifactType('Examples'))?.properties, { rows: 'INT', span: 'INT' });
        assert.deepEqual((await store.putArtifactType({ name: 'Examples', description: '', properties: {} })).properties, { rows: 'INT', span: 'INT' });
      });

      test('reject an unknown property kind', async (store) => {
        // @ts-expect-error: the kind is checked at run time too
        await rejectsWithCode(store.putArtifactType({ name: 'X', description: '', properties: { a: 'FLOAT' } }), 'INVALID_ARGUMENT');
      });
    });

    describe('artifacts', () => {
      test('are inserted in a batch and come back in order with ids, LIVE by default', async (store) => {
        await putTestTypes(store);
        const put = await store.putArtifacts([
          { typeName: 'Examples', uri: 'u1', fingerprint: 'f1', properties: { rows: 10, split: 'train' } },
          { typeName: 'Model', uri: 'u2', fingerprint: 'f2', properties: { auc: 0.9, meta: { a: [1] }, blessed: true } },
          { typeName: 'Examples', uri: 'u3', fingerprint: 'f3', state: 'PENDING' },
        ]);
        assert.deepEqual(put.map((a) => a.uri), ['u1', 'u2', 'u3']);
        assert.deepEqual(put.map((a) => a.state), ['LIVE', 'LIVE', 'PENDING']);
        assert.equal(new Set(put.map((a) => a.id)).size, 3);
        assert.deepEqual(put[1].properties, { auc: 0.9, meta: { a: [1] }, blessed: true });
        assert.equal(put[0].typeName, 'Examples');
        assert.ok(put[0].createdAt > 0);
        const got = await store.getArtifacts([put[2].id, 999_999, put[0].id]);
        assert.deepEqual(got, [put[2], put[0]]);
        assert.deepEqual(await store.putArtifacts([]), []);
      });

      test('must carry only declared properties of the declared kind', async (store) => {
        await putTestTypes(store);
        await rejectsWithCode(
          store.putArtifacts([{ typeName: 'Examples', uri: 'u', fingerprint: 'f', properties: { colour: 'red' } }]),
          'INVALID_ARGUMENT',
          'artifacts[0].properties.colour',
        );
        await rejectsWithCode(
          store.putArtifacts([{ typeName: 'Examples', uri: 'u', fingerprint: 'f', properties: { rows: 1.5 } }]),
          'INVALID_ARGUMENT',
          'artifacts[0].properties.rows',
        );
        await rejectsWithCode(
          store.putArtifacts([{ typeName: 'Model', uri: 'u', fingerprint: 'f', properties: { blessed: 'yes' } }]),
          'INVALID_ARGUMENT',
        );
        // One bad artifact in a batch keeps the whole batch out.
        await rejectsWithCode(
          store.putArtifacts([
            { typeName: 'Examples', uri: 'ok', fingerprint: 'f' },
            { typeName: 'Examples', uri: 'bad', fingerprint: 'f', properties: { nope: 1 } },
          ]),
          'INVALID_ARGUMENT',
        );
        assert.equal((await store.listArtifacts({})).items.length, 0);
      });

      test('of an unknown type fail with NOT_FOUND', async (store) => {
        await rejectsWithCode(store.putArtifacts([{ typeName: 'Ghost', uri: 'u', fingerprint: 'f' }]), 'NOT_FOUND');
      });

      test('change state, NOT_FOUND for an unknown id', async (store) => {
        await putTestTypes(store);
        const [a] = await store.putArtifacts([{ typeName: 'Examples', uri: 'u', fingerprint: 'f' }]);
        await store.setArtifactState(a.id, 'MARKED_FOR_DELETION');
        assert.equal((await store.getArtifacts([a.id]))[0].state, 'MARKED_FOR_DELETION');
        await rejectsWithCode(store.setArtifactState(999_999, 'DELETED'), 'NOT_FOUND');
        // @ts-expect-error: the state is checked at run time too
        await rejectsWithCode(store.setArtifactState(a.id, 'GONE'), 'INVALID_ARGUMENT');
      });

      test('are listed oldest first in pages, by type and by context', async (store) => {
        await putTestTypes(store);
        const examples = await store.putArtifacts(
          Array.from({ length: 5 }, (_, i) => ({ typeName: 'Examples', uri: `e${i}`, fingerprint: `f${i}` })),
        );
        const [model] = await store.putArtifacts([{ typeName: 'Model', uri: 'm', fingerprint: 'm' }]);
        const first = await store.listArtifacts({ pageSize: 4 });
        assert.equal(first.items.length, 4);
        assert.ok(first.nextPageToken);
        const second = await store.listArtifacts({ pageSize: 4, pageToken: first.nextPageToken });
        assert.deepEqual([...first.items, ...second.items].map((a) => a.id), [...examples, model].map((a) => a.id));
        assert.equal(second.nextPageToken, undefined);

        const models = await store.listArtifacts({ typeName: 'Model' });
        assert.deepEqual(models.items.map((a) => a.id), [model.id]);
        const context = await store.putContext({ typeName: 'pipeline', name: 'p' });
        await store.addToContext(context.id, { artifactIds: [examples[1].id, model.id] });
        const inContext = await store.listArtifacts({ contextId: context.id });
        assert.deepEqual(inContext.items.map((a) => a.id), [examples[1].id, model.id]);
        await rejectsWithCode(store.listArtifacts({ pageToken: 'not-a-token' }), 'INVALID_ARGUMENT');
        await rejectsWithCode(store.listArtifacts({ pageSize: 0 }), 'INVALID_ARGUMENT');
      });
    });

    describe('executions', () => {
      test('are created NEW with their parameters and code version', async (store) => {
        const created = await store.createExecution(newExecution({ cacheKey: 'k1', properties: { note: 'x' } }));
        assert.equal(created.state, 'NEW');
        assert.equal(created.attempts, 1);
        assert.deepEqual(created.parameters, { lr: 0.1 });
        assert.deepEqual(created.codeVersion, { commit: 'abc123', dirty: false });
        assert.equal(created.cacheKey, 'k1');
        assert.equal(created.endedAt, null);
        assert.deepEqual(await store.getExecution(created.id), created);
        assert.equal(await store.getExecution(999_999), undefined);
        const dirty = await store.createExecution(newExecution({ codeVersion: { commit: null, dirty: true } }));
        assert.deepEqual(dirty.codeVersion, { commit: null, dirty: true });
      });

      test('move NEW → RUNNING → a final state, and never leave a final state', async (store) => {
        const e = await store.createExecution(newExecution());
        const running = await store.updateExecution(e.id, { state: 'RUNNING', startedAt: 1000, attempts: 2 });
        assert.equal(running.state, 'RUNNING');
        assert.equal(running.startedAt, 1000);
        assert.equal(running.attempts, 2);
        await rejectsWithCode(store.updateExecution(e.id, { state: 'NEW' }), 'FAILED_PRECONDITION');
        const failed = await store.updateExecution(e.id, { state: 'FAILED', error: 'boom', endedAt: 2000 });
        assert.equal(failed.state, 'FAILED');
        assert.equal(failed.error, 'boom');
        assert.equal(failed.endedAt, 2000);
        await rejectsWithCode(store.updateExecution(e.id, { state: 'RUNNING' }), 'FAILED_PRECONDITION');
        await rejectsWithCode(store.updateExecution(e.id, { state: 'COMPLETE' }), 'FAILED_PRECONDITION');
        // A final execution may still gain properties.
        const noted = await store.updateExecution(e.id, { properties: { why: 'disk full' } });
        assert.deepEqual(noted.properties, { why: 'disk full' });
        assert.equal(noted.state, 'FAILED');

        const skipped = await store.createExecution(newExecution());
        assert.equal((await store.updateExecution(skipped.id, { state: 'SKIPPED' })).state, 'SKIPPED');
        await rejectsWithCode(store.updateExecution(999_999, { state: 'RUNNING' }), 'NOT_FOUND');
        // @ts-expect-error: the state is checked at run time too
        await rejectsWithCode(store.updateExecution(e.id, { state: 'DONE' }), 'INVALID_ARGUMENT');
      });

      test('are listed newest first in pages, by type, state and context', async (store) => {
        const made = [];
        for (let i = 0; i < 5; i++) made.push(await store.createExecution(newExecution({ typeName: i % 2 ? 'train' : 'ingest' })));
        await store.updateExecution(made[4].id, { state: 'RUNNING' });
        const first = await store.listExecutions({ pageSize: 3 });
        const second = await store.listExecutions({ pageSize: 3, pageToken: first.nextPageToken });
        assert.deepEqual([...first.items, ...second.items].map((e) => e.id), made.map((e) => e.id).reverse());
        assert.equal(second.nextPageToken, undefined);
        assert.deepEqual((await store.listExecutions({ typeName: 'train' })).items.map((e) => e.id), [made[3].id, made[1].id]);
        assert.deepEqual((await store.listExecutions({ states: ['RUNNING'] })).items.map((e) => e.id), [made[4].id]);
        assert.deepEqual((await store.listExecutions({ states: [] })).items, []);
        const run = await store.putContext({ typeName: 'pipeline_run', name: 'r1' });
        await store.addToContext(run.id, { executionIds: [made[0].id, made[2].id] });
        assert.deepEqual((await store.listExecutions({ contextId: run.id })).items.map((e) => e.id), [made[2].id, made[0].id]);
        await rejectsWithCode(store.listExecutions({ states: ['LOST' as 'NEW'] }), 'INVALID_ARGUMENT');
      });
    });

    describe('events', () => {
      test('link artifacts and executions, are idempotent and read by either side', async (store) => {
        await putTestTypes(store);
        const [a, b] = await store.putArtifacts([
          { typeName: 'Examples', uri: 'a', fingerprint: 'a' },
          { typeName: 'Model', uri: 'b', fingerprint: 'b' },
        ]);
        const e = await store.createExecution(newExecution());
        const other = await store.createExecution(newExecution());
        const events = [
          { artifactId: a.id, executionId: e.id, type: 'INPUT' as const, name: 'examples' },
          { artifactId: b.id, executionId: e.id, type: 'OUTPUT' as const, name: 'model' },
          { artifactId: b.id, executionId: other.id, type: 'INPUT' as const, name: 'model' },
        ];
        await store.putEvents(events);
        await store.putEvents(events.slice(0, 1));
        const ofE = await store.getEvents({ executionIds: [e.id] });
        assert.deepEqual(
          ofE.map(({ createdAt, ...rest }) => rest),
          events.slice(0, 2),
        );
        assert.ok(ofE.every((ev) => ev.createdAt > 0));
        assert.equal((await store.getEvents({ artifactIds: [b.id] })).length, 2);
        assert.equal((await store.getEvents({ executionIds: [other.id], artifactIds: [a.id] })).length, 2);
        assert.deepEqual(await store.getEvents({}), []);
      });

      test('need an existing artifact and execution and a valid type', async (store) => {
        await putTestTypes(store);
        const [a] = await store.putArtifacts([{ typeName: 'Examples', uri: 'a', fingerprint: 'a' }]);
        const e = await store.createExecution(newExecution());
        await rejectsWithCode(store.putEvents([{ artifactId: 999_999, executionId: e.id, type: 'INPUT', name: 'x' }]), 'NOT_FOUND');
        await rejectsWithCode(store.putEvents([{ artifactId: a.id, executionId: 999_999, type: 'INPUT', name: 'x' }]), 'NOT_FOUND');
        await rejectsWithCode(
          store.putEvents([{ artifactId: a.id, executionId: e.id, type: 'SIDE' as 'INPUT', name: 'x' }]),
          'INVALID_ARGUMENT',
        );
        assert.deepEqual(await store.getEvents({ executionIds: [e.id] }), []);
      });
    });

    describe('contexts', () => {
      test('are unique by type and name, found, updated and listed newest first', async (store) => {
        const p = await store.putContext({ typeName: 'pipeline', name: 'flights', properties: { owner: 'ml' } });
        const again = await store.putContext({ typeName: 'pipeline', name: 'flights' });
        assert.deepEqual(again, p);
        const run = await store.putContext({ typeName: 'pipeline_run', name: 'flights' });
        assert.notEqual(run.id, p.id);
        assert.deepEqual(await store.getContext(p.id), p);
        assert.deepEqual(await store.findContext('pipeline_run', 'flights'), run);
        assert.equal(await store.findContext('pipeline', 'nope'), undefined);
        assert.equal(await store.getContext(999_999), undefined);
        const updated = await store.updateContext(run.id, { status: 'done' });
        assert.deepEqual(updated.properties, { status: 'done' });
        await rejectsWithCode(store.updateContext(999_999, {}), 'NOT_FOUND');
        await rejectsWithCode(store.putContext({ typeName: 'team' as 'pipeline', name: 'x' }), 'INVALID_ARGUMENT');

        const r2 = await store.putContext({ typeName: 'pipeline_run', name: 'r2' });
        const page1 = await store.listContexts({ pageSize: 2 });
        assert.deepEqual(page1.items.map((c) => c.id), [r2.id, run.id]);
        const page2 = await store.listContexts({ pageSize: 2, pageToken: page1.nextPageToken });
        assert.deepEqual(page2.items.map((c) => c.id), [p.id]);
        assert.equal(page2.nextPageToken, undefined);
        assert.deepEqual((await store.listContexts({ typeName: 'pipeline' })).items.map((c) => c.id), [p.id]);
      });

      test('hold executions and artifacts; linking twice is harmless; unknown ids are NOT_FOUND', async (store) => {
        await putTestTypes(store);
        const p = await store.putContext({ typeName: 'pipeline', name: 'p' });
        const run = await store.putContext({ typeName: 'pipeline_run', name: 'r' });
        const e = await store.createExecution(newExecution());
        const [a] = await store.putArtifacts([{ typeName: 'Examples', uri: 'a', fingerprint: 'a' }]);
        await store.addToContext(p.id, { executionIds: [e.id], artifactIds: [a.id] });
        await store.addToContext(p.id, { executionIds: [e.id] });
        await store.addToContext(run.id, { executionIds: [e.id] });
        assert.deepEqual((await store.getContextsOfExecution(e.id)).map((c) => c.id), [p.id, run.id]);
        assert.deepEqual(await store.getContextsOfExecution(999_999), []);
        await rejectsWithCode(store.addToContext(999_999, { executionIds: [e.id] }), 'NOT_FOUND');
        await rejectsWithCode(store.addToContext(p.id, { artifactIds: [999_999] }), 'NOT_FOUND');
      });
    });

    describePublishContract(makeStore);
    describeOwnerContract(makeStore);
    describeExecutionLogContract(makeStore);
  });
}
