/**
 * The part of the MetadataStore contract about finished work: publishing an execution
 * atomically, the cache lookup rules, and lineage over a small DAG. Run by
 * `describeMetadataStoreContract`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newExecution, putTestTypes, rejectsWithCode, withStore, type MakeMetadataStore } from './contract-helpers.js';
import type { MetadataStore } from './store.js';
import type { Artifact, Execution } from './types.js';

/** Everything the store holds that a publish could touch, to compare before and after. */
async function snapshot(store: MetadataStore, executionId: number, contextId: number) {
  return {
    execution: await store.getExecution(executionId),
    artifacts: (await store.listArtifacts({})).items,
    events: await store.getEvents({ executionIds: [executionId] }),
    contexts: await store.getContextsOfExecution(executionId),
    inContext: (await store.listArtifacts({ contextId })).items,
  };
}

/** Records `inputs → execution → outputs` the way the orchestrator does. */
async function step(store: MetadataStore, typeName: string, inputs: Artifact[], outputs: string[], cacheKey?: string) {
  const execution = await store.createExecution(newExecution({ typeName, stepName: typeName, cacheKey }));
  await store.putEvents(inputs.map((a, i) => ({ artifactId: a.id, executionId: execution.id, type: 'INPUT', name: `in${i}` })));
  const published = await store.publishExecution({
    executionId: execution.id,
    state: 'COMPLETE',
    outputs: outputs.map((uri) => ({ name: uri, artifact: { typeName: 'Examples', uri, fingerprint: uri } })),
    contextIds: [],
    endedAt: Date.now(),
  });
  return { execution: published.execution, outputs: published.outputs.map((o) => o.artifact) };
}

const ids = (items: { id: number }[]) => items.map((i) => i.id).sort((a, b) => a - b);

export function describePublishContract(makeStore: MakeMetadataStore): void {
  const test = (title: string, body: (store: MetadataStore) => Promise<void>) => it(title, withStore(makeStore, body));

  describe('publishExecution', () => {
    test('records new and existing outputs, OUTPUT events, context links and the final state', async (store) => {
      await putTestTypes(store);
      const run = await store.putContext({ typeName: 'pipeline_run', name: 'r1' });
      const [existing] = await store.putArtifacts([{ typeName: 'Examples', uri: 'old', fingerprint: 'old' }]);
      const e = await store.createExecution(newExecution({ properties: { host: 'a' } }));
      await store.updateExecution(e.id, { state: 'RUNNING', startedAt: 5 });
      const result = await store.publishExecution({
        executionId: e.id,
        state: 'COMPLETE',
        outputs: [
          { name: 'model', artifact: { typeName: 'Model', uri: 'm', fingerprint: 'fm', properties: { auc: 0.8 } } },
          { name: 'examples', artifact: { id: existing.id } },
        ],
        contextIds: [run.id],
        properties: { rows: 10 },
        endedAt: 99,
      });
      assert.equal(result.execution.state, 'COMPLETE');
      assert.equal(result.execution.endedAt, 99);
      assert.deepEqual(result.execution.properties, { host: 'a', rows: 10 });
      assert.deepEqual(result.outputs.map((o) => o.name), ['model', 'examples']);
      assert.equal(result.outputs[0].artifact.uri, 'm');
      assert.equal(result.outputs[0].artifact.state, 'LIVE');
      assert.deepEqual(result.outputs[1].artifact, existing);
      assert.deepEqual(await store.getExecution(e.id), result.execution);
      const events = await store.getEvents({ executionIds: [e.id] });
      assert.deepEqual(
        events.map((ev) => [ev.type, ev.name, ev.artifactId]).sort(),
        [['OUTPUT', 'examples', existing.id], ['OUTPUT', 'model', result.outputs[0].artifact.id]].sort(),
      );
      assert.deepEqual((await store.getContextsOfExecution(e.id)).map((c) => c.id), [run.id]);
      assert.deepEqual(ids((await store.listArtifacts({ contextId: run.id })).items), ids(result.outputs.map((o) => o.artifact)));
    });

    test('that fails on an undeclared property leaves nothing written', async (store) => {
      await putTestTypes(store);
      const run = await store.putContext({ typeName: 'pipeline_run', name: 'r1' });
      const e = await store.createExecution(newExecution({ state: 'RUNNING' }));
      const before = await snapshot(store, e.id, run.id);
      await rejectsWithCode(
        store.publishExecution({
          executionId: e.id,
          state: 'COMPLETE',
          outputs: [
            { name: 'ok', artifact: { typeName: 'Model', uri: 'm1', fingerprint: 'f' } },
            { name: 'bad', artifact: { typeName: 'Model', uri: 'm2', fingerprint: 'f', properties: { colour: 'red' } } },
          ],
          contextIds: [run.id],
          endedAt: 1,
        }),
        'INVALID_ARGUMENT',
      );
      assert.deepEqual(await snapshot(store, e.id, run.id), before);
    });

    test('that fails after its artifacts are inserted rolls them back', async (store) => {
      await putTestTypes(store);
      const run = await store.putContext({ typeName: 'pipeline_run', name: 'r1' });
      const e = await store.createExecution(newExecution({ state: 'RUNNING' }));
      const before = await snapshot(store, e.id, run.id);
      // The new artifact goes in first; the unknown existing artifact, then the unknown context, fail later.
      const outputs = [{ name: 'model', artifact: { typeName: 'Model', uri: 'm', fingerprint: 'f' } }];
      await rejectsWithCode(
        store.publishExecution({ executionId: e.id, state: 'COMPLETE', outputs: [...outputs, { name: 'x', artifact: { id: 999_999 } }], contextIds: [run.id], endedAt: 1 }),
        'NOT_FOUND',
      );
      await rejectsWithCode(
        store.publishExecution({ executionId: e.id, state: 'COMPLETE', outputs, contextIds: [run.id, 999_999], endedAt: 1 }),
        'NOT_FOUND',
      );
      assert.deepEqual(await snapshot(store, e.id, run.id), before);
    });

    test('only finishes a NEW or RUNNING execution', async (store) => {
      await putTestTypes(store);
      const e = await store.createExecution(newExecution());
      const request = { executionId: e.id, state: 'CACHED' as const, outputs: [], contextIds: [], endedAt: 1 };
      assert.equal((await store.publishExecution(request)).execution.state, 'CACHED');
      await rejectsWithCode(store.publishExecution(request), 'FAILED_PRECONDITION');
      await rejectsWithCode(store.publishExecution({ ...request, executionId: 999_999 }), 'NOT_FOUND');
      const other = await store.createExecution(newExecution());
      await rejectsWithCode(store.publishExecution({ ...request, executionId: other.id, state: 'RUNNING' as 'COMPLETE' }), 'INVALID_ARGUMENT');
    });

    test('FAILED keeps the outputs of a failed verdict, with the error, and is never a cache hit', async (store) => {
      await putTestTypes(store);
      const e = await store.createExecution(newExecution({ state: 'RUNNING', cacheKey: 'k-failed' }));
      const result = await store.publishExecution({
        executionId: e.id,
        state: 'FAILED',
        outputs: [{ name: 'anomalies', artifact: { typeName: 'Examples', uri: 'a', fingerprint: 'fa' } }],
        contextIds: [],
        error: 'FAILED_PRECONDITION: the data does not match the schema',
        endedAt: 7,
      });
      assert.deepEqual([result.execution.state, result.execution.error], ['FAILED', 'FAILED_PRECONDITION: the data does not match the schema']);
      assert.deepEqual((await store.getEvents({ executionIds: [e.id] })).map((ev) => [ev.type, ev.name]), [['OUTPUT', 'anomalies']]);
      assert.equal(await store.findCachedExecution('k-failed'), undefined);
    });
  });

  describe('findCachedExecution', () => {
    test('returns the newest COMPLETE execution with the key whose outputs are all LIVE', async (store) => {
      await putTestTypes(store);
      const older = await step(store, 'train', [], ['a1', 'a2'], 'key');
      const newer = await step(store, 'train', [], ['b1', 'b2'], 'key');
      await step(store, 'train', [], ['c1'], 'other-key');
      // Neither an unfinished, a failed nor a CACHED execution is a cache entry.
      await store.createExecution(newExecution({ cacheKey: 'key', state: 'RUNNING' }));
      const failed = await store.createExecution(newExecution({ cacheKey: 'key' }));
      await store.updateExecution(failed.id, { state: 'FAILED' });
      const cached = await store.createExecution(newExecution({ cacheKey: 'key' }));
      await store.publishExecution({ executionId: cached.id, state: 'CACHED', outputs: [], contextIds: [], endedAt: 1 });

      let hit = await store.findCachedExecution('key');
      assert.equal(hit?.execution.id, newer.execution.id);
      assert.deepEqual(hit?.outputs.map((o) => [o.name, o.artifact.id]), [['b1', newer.outputs[0].id], ['b2', newer.outputs[1].id]]);

      // One output of the newer run is gone: the older run is the hit.
      await store.setArtifactState(newer.outputs[1].id, 'MARKED_FOR_DELETION');
      hit = await store.findCachedExecution('key');
      assert.equal(hit?.execution.id, older.execution.id);
      await store.setArtifactState(older.outputs[0].id, 'DELETED');
      assert.equal(await store.findCachedExecution('key'), undefined);
      assert.equal(await store.findCachedExecution('never-seen'), undefined);
    });
  });

  describe('lineage', () => {
    // raw →[ingest]→ examples →[transform]→ transformed, graph →[train]→ model →[evaluate]→ blessing
    async function dag(store: MetadataStore) {
      await putTestTypes(store);
      const [raw] = await store.putArtifacts([{ typeName: 'Examples', uri: 'raw', fingerprint: 'raw' }]);
      const ingest = await step(store, 'ingest', [raw], ['examples']);
      const [examples] = ingest.outputs;
      const transform = await step(store, 'transform', [examples], ['transformed', 'graph']);
      const [transformed, graph] = transform.outputs;
      const train = await step(store, 'train', [transformed, graph], ['model']);
      const [model] = train.outputs;
      const evaluate = await step(store, 'evaluate', [model, examples], ['blessing']);
      const [blessing] = evaluate.outputs;
      return { raw, examples, transformed, graph, model, blessing, ingest, transform, train, evaluate };
    }
    const executionIds = (xs: Execution[]) => xs.map((x) => x.id).sort((a, b) => a - b);

    test('upstream follows producers then their inputs, one execution level per hop', async (store) => {
      const d = await dag(store);
      const zero = await store.lineage(d.model.id, { direction: 'upstream', maxHops: 0 });
      assert.deepEqual(zero, { artifacts: [d.model], executions: [], events: [] });

      const one = await store.lineage(d.model.id, { direction: 'upstream', maxHops: 1 });
      assert.deepEqual(ids(one.artifacts), ids([d.model, d.transformed, d.graph]));
      assert.deepEqual(executionIds(one.executions), [d.train.execution.id]);
      assert.equal(one.events.length, 3);
      assert.ok(one.events.every((e) => e.executionId === d.train.execution.id));

      const two = await store.lineage(d.model.id, { direction: 'upstream', maxHops: 2 });
      assert.deepEqual(ids(two.artifacts), ids([d.model, d.transformed, d.graph, d.examples]));
      assert.deepEqual(executionIds(two.executions), executionIds([d.train.execution, d.transform.execution]));
      // The transform's OUTPUT events to both of its outputs, and its one INPUT.
      assert.equal(two.events.length, 6);

      const all = await store.lineage(d.model.id, { direction: 'upstream', maxHops: 10 });
      assert.deepEqual(ids(all.artifacts), ids([d.model, d.transformed, d.graph, d.examples, d.raw]));
      assert.equal(all.executions.length, 3);
      // Nothing downstream of the model (evaluate, blessing) is upstream of it.
      assert.ok(!all.artifacts.some((a) => a.id === d.blessing.id));
    });

    test('downstream follows consumers then their outputs', async (store) => {
      const d = await dag(store);
      const one = await store.lineage(d.examples.id, { direction: 'downstream', maxHops: 1 });
      assert.deepEqual(ids(one.artifacts), ids([d.examples, d.transformed, d.graph, d.blessing]));
      assert.deepEqual(executionIds(one.executions), executionIds([d.transform.execution, d.evaluate.execution]));
      assert.ok(one.events.every((e) => (e.type === 'INPUT' ? e.artifactId === d.examples.id : true)));

      const all = await store.lineage(d.raw.id, { direction: 'downstream', maxHops: 10 });
      assert.deepEqual(ids(all.artifacts), ids([d.raw, d.examples, d.transformed, d.graph, d.model, d.blessing]));
      assert.equal(all.executions.length, 4);
      const leaf = await store.lineage(d.blessing.id, { direction: 'downstream', maxHops: 3 });
      assert.deepEqual(leaf, { artifacts: [d.blessing], executions: [], events: [] });
    });

    test('rejects an unknown artifact and a bad hop count', async (store) => {
      await rejectsWithCode(store.lineage(999_999, { direction: 'upstream', maxHops: 1 }), 'NOT_FOUND');
      await putTestTypes(store);
      const [a] = await store.putArtifacts([{ typeName: 'Examples', uri: 'a', fingerprint: 'a' }]);
      await rejectsWithCode(store.lineage(a.id, { direction: 'upstream', maxHops: -1 }), 'INVALID_ARGUMENT');
      await rejectsWithCode(store.lineage(a.id, { direction: 'sideways' as 'upstream', maxHops: 1 }), 'INVALID_ARGUMENT');
    });
  });
}
