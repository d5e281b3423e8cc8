/**
 * The contract every TrackingStore backend passes. A backend's test file calls
 * `describeTrackingStoreContract('sqlite', makeStore)`; `makeStore` must give each test an
 * empty database of its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoomError } from '../core/errors.js';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { logMetric, logParam, setTag } from './log.js';
import type { TrackingStore } from './store.js';
import { describeLoggedModelContract } from './store.contract-logged-models.js';
import { describeRunOwnerContract } from './store.contract-owners.js';
import type { Run } from './types.js';

export type MakeTrackingStore = () => Promise<{ tracking: TrackingStore; close(): Promise<void> }>;

const T0 = 1_700_000_000_000;

async function runWith(store: TrackingStore, experimentId: string, name: string, values: { lr: string; auc?: number; team?: string; status?: 'FINISHED' | 'FAILED' }, startTime: number): Promise<Run> {
  const run = await store.createRun({ experimentId, runName: name, startTime, userId: 'ada' });
  await store.logBatch(run.info.runId, {
    params: [{ key: 'lr', value: values.lr }],
    metrics: values.auc === undefined ? [] : [{ key: 'auc', value: values.auc, timestamp: startTime, step: 0 }],
    tags: values.team ? [{ key: 'team', value: values.team }] : [],
  });
  if (values.status) await store.updateRun(run.info.runId, { status: values.status, endTime: startTime + 1000 });
  return (await store.getRun(run.info.runId))!;
}

export function describeTrackingStoreContract(name: string, makeStore: MakeTrackingStore): void {
  const test = (title: string, body: (store: TrackingStore) => Promise<void>) =>
    it(title, async () => {
      const { tracking, close } = await makeStore();
      try {
        await body(tracking);
      } finally {
        await close();
      }
    });

  describe(`TrackingStore contract: ${name}`, () => {
    describeRunOwnerContract(test);
    describeLoggedModelContract(test);
    test('has a Default experiment with id "0"', async (store) => {
      const experiment = await store.getExperiment('0');
      assert.equal(experiment?.name, 'Default');
      assert.equal(experiment?.lifecycleStage, 'active');
      assert.equal(experiment?.artifactLocation, 'mlflow-artifacts:/0');
      await rejectsWithCode(store.deleteExperiment('0'), 'FAILED_PRECONDITION');
    });

    test('creates, finds, renames, tags, deletes and restores experiments', async (store) => {
      const made = await store.createExperiment({ name: 'flights', tags: { team: 'ml' } });
      assert.match(made.experimentId, /^[1-9]\d*$/);
      assert.equal(made.artifactLocation, `mlflow-artifacts:/${made.experimentId}`);
      assert.deepEqual(made.tags, { team: 'ml' });
      assert.deepEqual(await store.getExperimentByName('flights'), made);
      await rejectsWithCode(store.createExperiment({ name: 'flights' }), 'ALREADY_EXISTS');
      const custom = await store.createExperiment({ name: 'other', artifactLocation: 'file:///tmp/x' });
      assert.equal(custom.artifactLocation, 'file:///tmp/x');
      await rejectsWithCode(store.renameExperiment(made.experimentId, 'other'), 'ALREADY_EXISTS');
      const renamed = await store.renameExperiment(made.experimentId, 'flights-2');
      assert.equal(renamed.name, 'flights-2');
      await store.setExperimentTag(made.experimentId, 'owner', 'bo');
      assert.deepEqual((await store.getExperiment(made.experimentId))?.tags, { owner: 'bo', team: 'ml' });
      await store.deleteExperiment(made.experimentId);
      assert.equal((await store.getExperiment(made.experimentId))?.lifecycleStage, 'deleted');
      await rejectsWithCode(store.createRun({ experimentId: made.experimentId }), 'FAILED_PRECONDITION');
      await store.restoreExperiment(made.experimentId);
      assert.equal((await store.getExperiment(made.experimentId))?.lifecycleStage, 'active');
      assert.equal(await store.getExperiment('999'), undefined);
      assert.equal(await store.getExperiment('abc'), undefined);
      await rejectsWithCode(store.renameExperiment('999', 'x'), 'NOT_FOUND');
    });

    test('matches LIKE and ILIKE the same on both backends: a backslash takes the next wildcard literally', async (store) => {
      await store.createExperiment({ name: 'a_b1' });
      await store.createExperiment({ name: 'axb1' });
      const names = async (filter: string) => (await store.searchExperiments({ filter })).items.map((e) => e.name).sort();
      assert.deepEqual(await names("name LIKE 'a_b%'"), ['a_b1', 'axb1']);
      assert.deepEqual(await names("name LIKE 'a\\_b%'"), ['a_b1']);
      assert.deepEqual(await names("name ILIKE 'A\\_B%'"), ['a_b1']);
    });

    test('refuses a LIKE or ILIKE pattern ending in a lone backslash on both backends; an escaped one matches itself', async (store) => {
      const made = await store.createExperiment({ name: 'a\\' });
      const run = await store.createRun({ experimentId: made.experimentId, runName: 'r', startTime: T0 });
      await store.logBatch(run.info.runId, { params: [{ key: 'p', value: 'x\\' }], metrics: [], tags: [] });
      const experiments = async (filter: string) => (await store.searchExperiments({ filter })).items.map((e) => e.name);
      const runs = async (filter: string) => (await store.searchRuns({ experimentIds: [made.experimentId], filter })).items.map((r) => r.info.runName);
      for (const search of [() => experiments("name LIKE 'a\\'"), () => experiments("name ILIKE 'A\\'"), () => runs("params.p LIKE 'x\\\\\\'"), () => runs("tags.t ILIKE '\\'"), () => store.searchLoggedModels({ experimentIds: [made.experimentId], filter: "name LIKE 'm\\'" })]) {
        await assert.rejects(search(), (error: unknown) => {
          assert.ok(isLoomError(error), String(error));
          assert.equal(error.code, 'INVALID_ARGUMENT');
          assert.equal(error.field, 'filter');
          assert.match(error.message, /ends in a lone backslash/);
          assert.match(error.fix ?? '', /\\\\/);
          return true;
        });
      }
      assert.deepEqual(await experiments("name LIKE 'a\\\\'"), ['a\\']);
      assert.deepEqual(await experiments("name ILIKE 'A\\\\'"), ['a\\']);
      assert.deepEqual(await runs("params.p LIKE 'x\\\\'"), ['r']);
      assert.deepEqual(await runs("params.p ILIKE '%\\\\'"), ['r']);
    });

    test('searches experiments by name, tag and view type', async (store) => {
      await store.createExperiment({ name: 'flights-a', tags: { team: 'ml' } });
      const b = await store.createExperiment({ name: 'flights-b' });
      await store.createExperiment({ name: 'Wages' });
      await store.deleteExperiment(b.experimentId);
      const names = async (request: Parameters<TrackingStore['searchExperiments']>[0]) =>
        (await store.searchExperiments(request)).items.map((e) => e.name).sort();
      assert.deepEqual(await names({ filter: "name LIKE 'flights%'" }), ['flights-a']);
      assert.deepEqual(await names({ filter: "name LIKE 'flights%'", viewType: 'ALL' }), ['flights-a', 'flights-b']);
      assert.deepEqual(await names({ filter: "name ILIKE 'wages'" }), ['Wages']);
      assert.deepEqual(await names({ filter: "name LIKE 'wages'" }), []);
      assert.deepEqual(await names({ filter: "tags.team = 'ml'" }), ['flights-a']);
      const ordered = await store.searchExperiments({ orderBy: ['name ASC'], maxResults: 2 });
      assert.deepEqual(ordered.items.map((e) => e.name), ['Default', 'Wages']);
      const next = await store.searchExperiments({ orderBy: ['name ASC'], maxResults: 2, pageToken: ordered.nextPageToken });
      assert.deepEqual(next.items.map((e) => e.name), ['flights-a']);
      assert.equal(next.nextPageToken, undefined);
      await rejectsWithCode(store.searchExperiments({ filter: 'metrics.auc > 1' }), 'INVALID_ARGUMENT', 'filter');
    });

    test('creates runs with MLflow run ids, names, artifact URIs and a name tag', async (store) => {
      const experiment = await store.createExperiment({ name: 'e' });
      const run = await store.createRun({ experimentId: experiment.experimentId, runName: 'first', userId: 'ada', startTime: T0, tags: { note: 'x' } });
      assert.match(run.info.runId, /^[0-9a-f]{32}$/);
      assert.deepEqual(run.info, {
        runId: run.info.runId,
        experimentId: experiment.experimentId,
        runName: 'first',
        userId: 'ada',
        status: 'RUNNING',
        startTime: T0,
        endTime: null,
        lifecycleStage: 'active',
        artifactUri: `mlflow-artifacts:/${experiment.experimentId}/${run.info.runId}/artifacts`,
      });
      assert.deepEqual(run.data, { metrics: [], params: {}, tags: { 'mlflow.runName': 'first', note: 'x' } });
      const unnamed = await store.createRun({});
      assert.equal(unnamed.info.experimentId, '0');
      assert.ok(unnamed.info.runName.length > 0);
      await rejectsWithCode(store.createRun({ experimentId: '424242' }), 'NOT_FOUND');
      assert.equal(await store.getRun('0'.repeat(32)), undefined);
    });

    test('updates status, end time and name; deletes and restores runs', async (store) => {
      const run = await store.createRun({ runName: 'a' });
      const info = await store.updateRun(run.info.runId, { status: 'FINISHED', endTime: T0 + 5, runName: 'b' });
      assert.equal(info.status, 'FINISHED');
      assert.equal(info.endTime, T0 + 5);
      assert.equal(info.runName, 'b');
      assert.equal((await store.getRun(run.info.runId))?.data.tags['mlflow.runName'], 'b');
      await rejectsWithCode(store.updateRun(run.info.runId, { status: 'DONE' as never }), 'INVALID_ARGUMENT');
      await store.deleteRun(run.info.runId);
      assert.equal((await store.getRun(run.info.runId))?.info.lifecycleStage, 'deleted');
      await rejectsWithCode(logMetric(store, run.info.runId, 'x', 1), 'INVALID_ARGUMENT');
      await store.restoreRun(run.info.runId);
      await logMetric(store, run.info.runId, 'x', 1);
      await rejectsWithCode(store.updateRun('f'.repeat(32), { status: 'FAILED' }), 'NOT_FOUND');
    });

    test('logs a batch of metrics, params and tags; the latest point per key is the run value', async (store) => {
      const run = await store.createRun({});
      const id = run.info.runId;
      await store.logBatch(id, {
        metrics: [
          { key: 'loss', value: 0.9, timestamp: T0, step: 0 },
          { key: 'loss', value: 0.5, timestamp: T0 + 2, step: 2 },
          { key: 'loss', value: 0.7, timestamp: T0 + 1, step: 1 },
          { key: 'auc', value: Number.NaN, timestamp: T0, step: 0 },
          { key: 'big', value: Number.POSITIVE_INFINITY, timestamp: T0, step: 0 },
        ],
        params: [{ key: 'lr', value: '0.1' }, { key: 'epochs', value: '5' }],
        tags: [{ key: 'team', value: 'ml' }],
      });
      // An older step logged later does not replace the latest value.
      await logMetric(store, id, 'loss', 0.8, { step: 1, timestamp: T0 + 3 });
      const got = (await store.getRun(id))!;
      assert.deepEqual(got.data.params, { epochs: '5', lr: '0.1' });
      assert.equal(got.data.tags.team, 'ml');
      const byKey = Object.fromEntries(got.data.metrics.map((m) => [m.key, m]));
      assert.deepEqual(byKey.loss, { key: 'loss', value: 0.5, timestamp: T0 + 2, step: 2 });
      assert.ok(Number.isNaN(byKey.auc!.value));
      assert.equal(byKey.big!.value, Number.POSITIVE_INFINITY);
      const history = await store.getMetricHistory(id, 'loss');
      assert.deepEqual(history.items.map((m) => [m.step, m.value]), [[0, 0.9], [1, 0.7], [1, 0.8], [2, 0.5]]);
      const odd = [...(await store.getMetricHistory(id, 'big')).items, ...(await store.getMetricHistory(id, 'auc')).items];
      assert.deepEqual(odd.map((m) => m.value), [Number.POSITIVE_INFINITY, Number.NaN]);
      await logMetric(store, id, 'big', Number.NEGATIVE_INFINITY, { step: 1 });
      assert.equal((await store.getMetricHistory(id, 'big')).items[1]?.value, Number.NEGATIVE_INFINITY);
      const page = await store.getMetricHistory(id, 'loss', { maxResults: 3 });
      assert.equal(page.items.length, 3);
      const rest = await store.getMetricHistory(id, 'loss', { maxResults: 3, pageToken: page.nextPageToken });
      assert.deepEqual(rest.items.map((m) => m.value), [0.5]);
    });

    test('keeps params immutable: a different value fails and writes nothing of that batch', async (store) => {
      const { info } = await store.createRun({});
      await logParam(store, info.runId, 'lr', '0.1');
      await logParam(store, info.runId, 'lr', '0.1');
      await rejectsWithCode(
        store.logBatch(info.runId, { params: [{ key: 'lr', value: '0.2' }], metrics: [{ key: 'm', value: 1, timestamp: T0, step: 0 }] }),
        'INVALID_ARGUMENT',
        'params',
      );
      await rejectsWithCode(store.logBatch(info.runId, { params: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] }), 'INVALID_ARGUMENT');
      const run = (await store.getRun(info.runId))!;
      assert.deepEqual(run.data.params, { lr: '0.1' });
      assert.deepEqual(run.data.metrics, []);
      await rejectsWithCode(store.logBatch(info.runId, { params: [{ key: '../x', value: '1' }] }), 'INVALID_ARGUMENT');
      await rejectsWithCode(store.logBatch(info.runId, { metrics: [{ key: 'm', value: 1, timestamp: 1.5, step: 0 }] }), 'INVALID_ARGUMENT');
      await rejectsWithCode(store.logBatch('0'.repeat(32), { params: [{ key: 'a', value: '1' }] }), 'NOT_FOUND');
    });

    test('concurrent batches all land, and a bad one fails alone', async (store) => {
      const { info } = await store.createRun({});
      const gone = await store.createRun({});
      await store.deleteRun(gone.info.runId);
      await logParam(store, info.runId, 'lr', '0.1');
      const point = (i: number) => ({ key: 'm', value: i, timestamp: T0 + i, step: i });
      const results = await Promise.allSettled([
        ...Array.from({ length: 10 }, (_, i) => store.logBatch(info.runId, { metrics: [point(i)] })),
        store.logBatch(info.runId, { params: [{ key: 'lr', value: '0.2' }], metrics: [point(100)] }),
        store.logBatch(gone.info.runId, { metrics: [point(200)] }),
        store.logBatch(info.runId, { metrics: [point(10)] }),
      ]);
      assert.deepEqual(results.map((r) => r.status), [...Array(10).fill('fulfilled'), 'rejected', 'rejected', 'fulfilled']);
      const history = await store.getMetricHistory(info.runId, 'm');
      assert.deepEqual(history.items.map((m) => m.value), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual((await store.getRun(info.runId))!.data.params, { lr: '0.1' });
      assert.deepEqual((await store.getMetricHistory(gone.info.runId, 'm')).items, []);
    });

    test('sets, overwrites and deletes tags', async (store) => {
      const { info } = await store.createRun({});
      await setTag(store, info.runId, 'stage', 'a');
      await setTag(store, info.runId, 'stage', 'b');
      assert.equal((await store.getRun(info.runId))?.data.tags.stage, 'b');
      await store.deleteTag(info.runId, 'stage');
      assert.equal((await store.getRun(info.runId))?.data.tags.stage, undefined);
      await rejectsWithCode(store.deleteTag(info.runId, 'stage'), 'NOT_FOUND');
    });

    test('reads a metric as columns in the history order, NaN, infinities and full doubles kept', async (store) => {
      const { info } = await store.createRun({});
      const odd = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.1 + 0.2, -1e-300, 2 ** 53];
      // Out of order, a step logged twice (the earlier timestamp first), and another key between.
      const metrics = odd.map((value, i) => ({ key: 'm', value, timestamp: T0 + 10 - i, step: 5 - i }));
      metrics.push({ key: 'm', value: 7, timestamp: T0 - 1, step: 3 }, { key: 'other', value: 1, timestamp: T0, step: 0 });
      await store.logBatch(info.runId, { metrics });
      const history = (await store.getMetricHistory(info.runId, 'm')).items;
      const columns = await store.getMetricColumns(info.runId, 'm');
      assert.deepEqual(columns, { steps: history.map((m) => m.step), values: history.map((m) => m.value), timestamps: history.map((m) => m.timestamp) });
      assert.deepEqual(columns.steps, [0, 1, 2, 3, 3, 4, 5]);
      assert.deepEqual(columns.values, [2 ** 53, -1e-300, 0.1 + 0.2, 7, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN]);
      assert.deepEqual(await store.getMetricColumns(info.runId, 'nothing'), { steps: [], values: [], timestamps: [] });
      await rejectsWithCode(store.getMetricColumns('0'.repeat(32), 'm'), 'NOT_FOUND');
    });

    test('writes a batch larger than one INSERT chunk', async (store) => {
      const { info } = await store.createRun({});
      const metrics = Array.from({ length: 12_345 }, (_, i) => ({ key: `m${i % 7}`, value: i, timestamp: T0 + i, step: i }));
      await store.logBatch(info.runId, { metrics });
      const history = await store.getMetricHistory(info.runId, 'm3', { maxResults: 100_000 });
      assert.equal(history.items.length, metrics.filter((m) => m.key === 'm3').length);
      const latest = (await store.getRun(info.runId))!.data.metrics.find((m) => m.key === 'm6');
      assert.equal(latest?.value, 12_340);
    });

    test('searches runs by metrics, params, tags and attributes, with order and pages', async (store) => {
      const { experimentId } = await store.createExperiment({ name: 's' });
      const a = await runWith(store, experimentId, 'a', { lr: '0.1', auc: 0.7, team: 'ml', status: 'FINISHED' }, T0 + 1);
      const b = await runWith(store, experimentId, 'b', { lr: '0.01', auc: 0.55, status: 'FINISHED' }, T0 + 2);
      const c = await runWith(store, experimentId, 'c', { lr: '0.1', auc: 0.9, status: 'FAILED' }, T0 + 3);
      const d = await runWith(store, experimentId, 'd', { lr: '0.1' }, T0 + 4);
      const other = await store.createExperiment({ name: 'other' });
      await runWith(store, other.experimentId, 'x', { lr: '0.1', auc: 0.99 }, T0);
      const names = async (filter: string, orderBy?: string[]) =>
        (await store.searchRuns({ experimentIds: [experimentId], filter, orderBy })).items.map((r) => r.info.runName);

      assert.deepEqual(await names(''), ['d', 'c', 'b', 'a']);
      assert.deepEqual(await names("metrics.auc > 0.6 and params.lr = '0.1'"), ['c', 'a']);
      assert.deepEqual(await names("metrics.auc > 0.6 and params.lr = '0.1' and attributes.status = 'FINISHED'"), ['a']);
      assert.deepEqual(await names("tags.team = 'ml'"), ['a']);
      assert.deepEqual(await names("tags.`mlflow.runName` = 'b'"), ['b']);
      assert.deepEqual(await names("tags.mlflow.runName IN ('b', 'c')"), ['c', 'b']);
      assert.deepEqual(await names("params.lr != '0.1'"), ['b']);
      assert.deepEqual(await names('metrics.auc <= 0.7'), ['b', 'a']);
      assert.deepEqual(await names("attributes.run_name LIKE 'a%'"), ['a']);
      assert.deepEqual(await names(`attributes.start_time >= ${T0 + 3}`), ['d', 'c']);
      assert.deepEqual(await names(`run_id = '${b.info.runId}'`.replace('run_id', 'attributes.run_id')), ['b']);
      assert.deepEqual(await names('', ['metrics.auc DESC']), ['c', 'a', 'b', 'd']);
      assert.deepEqual(await names('', ['metrics.auc ASC']), ['b', 'a', 'c', 'd']);
      assert.deepEqual(await names('', ['params.lr', 'attributes.start_time ASC']), ['b', 'a', 'c', 'd']);

      const first = await store.searchRuns({ experimentIds: [experimentId], maxResults: 3 });
      assert.equal(first.items.length, 3);
      const second = await store.searchRuns({ experimentIds: [experimentId], maxResults: 3, pageToken: first.nextPageToken });
      assert.deepEqual(second.items.map((r) => r.info.runId), [a.info.runId]);
      assert.equal(second.nextPageToken, undefined);
      const both = await store.searchRuns({ experimentIds: [experimentId, other.experimentId], filter: 'metrics.auc > 0.8' });
      assert.deepEqual(both.items.map((r) => r.info.runName).sort(), ['c', 'x']);
      assert.deepEqual(first.items[0]!.data.params, { lr: '0.1' });

      await store.deleteRun(d.info.runId);
      assert.deepEqual(await names(''), ['c', 'b', 'a']);
      const deleted = await store.searchRuns({ experimentIds: [experimentId], viewType: 'DELETED_ONLY' });
      assert.deepEqual(deleted.items.map((r) => r.info.runId), [d.info.runId]);
      void c;
    });

    test('rejects filters it cannot parse, naming the field', async (store) => {
      for (const filter of ['metrics.auc > ', 'auc > 1', "metrics.auc > 0.5 or params.lr = '1'", "metrics.auc = 'x'", 'params.lr > 1', 'bogus.x = 1', 'attributes.color = 1', "params.lr = '1' ;drop"]) {
        await rejectsWithCode(store.searchRuns({ experimentIds: ['0'], filter }), 'INVALID_ARGUMENT', 'filter');
      }
      await rejectsWithCode(store.searchRuns({ experimentIds: ['0'], orderBy: ['metrics.auc sideways'] }), 'INVALID_ARGUMENT', 'order_by');
      await rejectsWithCode(store.searchRuns({ experimentIds: ['0'], maxResults: 0 }), 'INVALID_ARGUMENT', 'max_results');
    });

    test('links nested runs to their parent through the mlflow.parentRunId tag', async (store) => {
      const parent = await store.createRun({ runName: 'study' });
      for (const n of [1, 2]) await store.createRun({ runName: `trial-${n}`, tags: { 'mlflow.parentRunId': parent.info.runId } });
      const children = await store.searchRuns({ experimentIds: ['0'], filter: `tags.mlflow.parentRunId = '${parent.info.runId}'`, orderBy: ['attributes.run_name'] });
      assert.deepEqual(children.items.map((r) => r.info.runName), ['trial-1', 'trial-2']);
    });
  });
}
