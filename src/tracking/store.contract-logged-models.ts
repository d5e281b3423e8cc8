/**
 * The part of the TrackingStore contract about MLflow 3's logged models and a run's inputs
 * and outputs: create (PENDING, under the experiment's artifact location), get, search with
 * filters, order and pages, finalize, tags, immutable params, delete; datasets a run read
 * and models it produced come back with the run. Run by `describeTrackingStoreContract`.
 */
import assert from 'node:assert/strict';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import type { TrackingStore } from './store.js';

export function describeLoggedModelContract(test: (title: string, body: (store: TrackingStore) => Promise<void>) => void): void {
  test('creates, finds, tags, finalizes and deletes logged models', async (store) => {
    const experiment = await store.createExperiment({ name: 'models' });
    const run = await store.createRun({ experimentId: experiment.experimentId });
    const made = await store.createLoggedModel({ experimentId: experiment.experimentId, name: 'clf', sourceRunId: run.info.runId, modelType: 'classifier', tags: { team: 'ml' }, params: { C: '1.0' } });
    assert.match(made.modelId, /^m-[0-9a-f]{32}$/);
    assert.equal(made.status, 'PENDING');
    assert.equal(made.artifactLocation, `mlflow-artifacts:/${experiment.experimentId}/models/${made.modelId}/artifacts`);
    assert.deepEqual([made.name, made.sourceRunId, made.modelType, made.tags, made.params], ['clf', run.info.runId, 'classifier', { team: 'ml' }, { C: '1.0' }]);
    assert.deepEqual(await store.getLoggedModel(made.modelId), made);
    assert.match((await store.createLoggedModel({ experimentId: experiment.experimentId })).name, /^model-[0-9a-f]{8}$/);

    await store.setLoggedModelTags(made.modelId, { team: 'data', stage: 'dev' });
    await store.deleteLoggedModelTag(made.modelId, 'stage');
    await rejectsWithCode(store.deleteLoggedModelTag(made.modelId, 'stage'), 'NOT_FOUND');
    await store.logLoggedModelParams(made.modelId, { C: '1.0', penalty: 'l2' });
    await rejectsWithCode(store.logLoggedModelParams(made.modelId, { C: '2.0', solver: 'lbfgs' }), 'INVALID_ARGUMENT');
    const ready = await store.finalizeLoggedModel(made.modelId, 'READY');
    assert.equal(ready.status, 'READY');
    assert.deepEqual([ready.tags, ready.params], [{ team: 'data' }, { C: '1.0', penalty: 'l2' }]);
    await rejectsWithCode(store.finalizeLoggedModel(made.modelId, 'PENDING'), 'INVALID_ARGUMENT');

    await store.deleteLoggedModel(made.modelId);
    assert.equal(await store.getLoggedModel(made.modelId), undefined);
    assert.equal((await store.getLoggedModel(made.modelId, { allowDeleted: true }))?.lifecycleStage, 'deleted');
    await rejectsWithCode(store.setLoggedModelTags(made.modelId, { a: 'b' }), 'NOT_FOUND');
    await rejectsWithCode(store.createLoggedModel({ experimentId: '999' }), 'NOT_FOUND');
    await rejectsWithCode(store.createLoggedModel({ experimentId: experiment.experimentId, sourceRunId: 'f'.repeat(32) }), 'NOT_FOUND');
    assert.equal(await store.getLoggedModel('m-nothing'), undefined);
  });

  test('searches logged models by attributes, tags and params, in order and in pages', async (store) => {
    const a = await store.createExperiment({ name: 'a' });
    const b = await store.createExperiment({ name: 'b' });
    const first = await store.createLoggedModel({ experimentId: a.experimentId, name: 'tree', tags: { team: 'ml' }, params: { depth: '3' } });
    const second = await store.createLoggedModel({ experimentId: a.experimentId, name: 'linear', params: { depth: '0' } });
    const third = await store.createLoggedModel({ experimentId: b.experimentId, name: 'tree-2', tags: { team: 'ml' } });
    await store.createLoggedModel({ experimentId: b.experimentId, name: 'other' });
    await store.finalizeLoggedModel(second.modelId, 'READY');
    const ids = async (filter?: string, orderBy?: { field: string; ascending: boolean }[], experimentIds = [a.experimentId, b.experimentId]) =>
      (await store.searchLoggedModels({ experimentIds, filter, orderBy })).items.map((m) => m.modelId);

    assert.deepEqual(await ids("name = 'tree'"), [first.modelId]);
    assert.deepEqual(await ids("name LIKE 'tree%'", [{ field: 'name', ascending: true }]), [first.modelId, third.modelId]);
    assert.deepEqual(await ids("tags.team = 'ml' AND params.depth = '3'"), [first.modelId]);
    assert.deepEqual(await ids("status = 'READY'"), [second.modelId]);
    assert.deepEqual(await ids(undefined, [{ field: 'name', ascending: false }], [a.experimentId]), [first.modelId, second.modelId]);
    await rejectsWithCode(store.searchLoggedModels({ experimentIds: [a.experimentId], filter: 'metrics.auc > 0.5' }), 'INVALID_ARGUMENT');
    await rejectsWithCode(store.searchLoggedModels({ experimentIds: [a.experimentId], orderBy: [{ field: 'size', ascending: true }] }), 'INVALID_ARGUMENT');

    const order = [{ field: 'name', ascending: true }];
    const page1 = await store.searchLoggedModels({ experimentIds: [a.experimentId, b.experimentId], orderBy: order, maxResults: 3 });
    assert.ok(page1.nextPageToken);
    const page2 = await store.searchLoggedModels({ experimentIds: [a.experimentId, b.experimentId], orderBy: order, maxResults: 3, pageToken: page1.nextPageToken });
    assert.deepEqual([...page1.items, ...page2.items].map((m) => m.name), ['linear', 'other', 'tree', 'tree-2']);
    assert.equal(page2.nextPageToken, undefined);
  });

  test('records the datasets a run read and the models it produced, and returns them with the run', async (store) => {
    const run = await store.createRun({ runName: 'fit' });
    const dataset = { name: 'flights', digest: 'abc123', sourceType: 'local', source: '{"uri": "/data/flights.parquet"}', schema: '{"mlflow_colspec": []}', profile: '{"num_rows": 10}' };
    await store.logInputs(run.info.runId, [{ dataset, tags: { 'mlflow.data.context': 'training' } }]);
    // The same dataset again replaces its tags instead of adding a second input.
    await store.logInputs(run.info.runId, [{ dataset, tags: { 'mlflow.data.context': 'eval' } }]);
    const model = await store.createLoggedModel({ experimentId: '0', sourceRunId: run.info.runId });
    await store.logOutputs(run.info.runId, [{ modelId: model.modelId, step: 3 }]);
    const got = await store.getRun(run.info.runId);
    assert.deepEqual(got?.inputs, { datasetInputs: [{ dataset, tags: { 'mlflow.data.context': 'eval' } }] });
    assert.deepEqual(got?.outputs, { modelOutputs: [{ modelId: model.modelId, step: 3 }] });
    const found = await store.searchRuns({ experimentIds: ['0'] });
    assert.deepEqual(found.items[0]?.inputs, got?.inputs);
    await rejectsWithCode(store.logOutputs(run.info.runId, [{ modelId: `m-${'0'.repeat(32)}`, step: 0 }]), 'NOT_FOUND');
    await rejectsWithCode(store.logInputs('f'.repeat(32), [{ dataset, tags: {} }]), 'NOT_FOUND');
  });
}
