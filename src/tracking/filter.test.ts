import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoomError } from '../core/errors.js';
import { compareRuns } from './compare.js';
import { parseFilter, parseOrderBy } from './filter.js';
import { sparkline } from './sparkline.js';
import type { Run } from './types.js';

test('parses MLflow filters: entities and aliases, quoted names, comparators, lists', () => {
  assert.deepEqual(parseFilter("metrics.auc > 0.6 and params.lr = '0.1' AND tags.x = \"y\" and attributes.status = 'FINISHED'"), [
    { kind: 'metric', name: 'auc', comparator: '>', value: 0.6 },
    { kind: 'param', name: 'lr', comparator: '=', value: '0.1' },
    { kind: 'tag', name: 'x', comparator: '=', value: 'y' },
    { kind: 'attribute', name: 'status', comparator: '=', value: 'FINISHED' },
  ]);
  assert.deepEqual(parseFilter('m.loss <= -1.5e-3'), [{ kind: 'metric', name: 'loss', comparator: '<=', value: -0.0015 }]);
  assert.deepEqual(parseFilter('tags.`my key` != \'it\'\'s\''), [{ kind: 'tag', name: 'my key', comparator: '!=', value: "it's" }]);
  assert.deepEqual(parseFilter('tags."mlflow.runName" like \'a%\''), [{ kind: 'tag', name: 'mlflow.runName', comparator: 'LIKE', value: 'a%' }]);
  assert.deepEqual(parseFilter("attributes.run_id not in ('a', 'b')"), [{ kind: 'attribute', name: 'run_id', comparator: 'NOT IN', value: ['a', 'b'] }]);
  assert.deepEqual(parseFilter('tags.mlflow.parentRunId = \'x\''), [{ kind: 'tag', name: 'mlflow.parentRunId', comparator: '=', value: 'x' }]);
  assert.deepEqual(parseFilter('  '), []);
  assert.deepEqual(parseFilter("name = 'x'", { bareKind: 'attribute' }), [{ kind: 'attribute', name: 'name', comparator: '=', value: 'x' }]);
  assert.deepEqual(parseOrderBy('metrics.auc DESC'), { kind: 'metric', name: 'auc', descending: true });
  assert.deepEqual(parseOrderBy('params.lr'), { kind: 'param', name: 'lr', descending: false });
});

test('refuses what it does not understand with INVALID_ARGUMENT on the field', () => {
  for (const filter of ["metrics.auc > 1 or params.a = 'b'", 'metrics.auc >', "params.a = 'b", 'x.y = 1', 'metrics.auc > 1 metrics.b > 2', 'metrics.a ~ 1', "params.a in 'b'", 'auc > 1']) {
    assert.throws(() => parseFilter(filter), (e: unknown) => isLoomError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'filter', filter);
  }
  assert.throws(() => parseOrderBy('metrics.auc DESC extra'), (e: unknown) => isLoomError(e) && e.field === 'order_by');
});

test('sparklines show the shape of a curve within the width', () => {
  assert.equal(sparkline([4, 3, 2, 1]), '█▆▃▁');
  assert.equal(sparkline([1, 1, 1]), '▁▁▁');
  assert.equal(sparkline([1, Number.NaN, 2]), '▁ █');
  assert.equal(sparkline(Array.from({ length: 1000 }, (_, i) => i), 10).length, 10);
  assert.equal(sparkline([]), '');
});

test('compares runs side by side and marks what differs', () => {
  const run = (id: string, params: Record<string, string>, metrics: Record<string, number>): Run => ({
    info: { runId: id, experimentId: '0', runName: id, userId: '', status: 'FINISHED', startTime: 0, endTime: 1, lifecycleStage: 'active', artifactUri: '' },
    data: { params, tags: {}, metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: 0, step: 0 })) },
    inputs: { datasetInputs: [] },
    outputs: { modelOutputs: [] },
  });
  const comparison = compareRuns([run('a', { lr: '0.1', epochs: '5' }, { auc: 0.8, nan: Number.NaN }), run('b', { lr: '0.2', epochs: '5' }, { auc: 0.8, loss: 0.3, nan: Number.NaN })]);
  assert.deepEqual(comparison.params, [
    { key: 'epochs', values: ['5', '5'], differs: false },
    { key: 'lr', values: ['0.1', '0.2'], differs: true },
  ]);
  assert.deepEqual(comparison.metrics.map((r) => [r.key, r.differs]), [['auc', false], ['loss', true], ['nan', false]]);
  assert.deepEqual(comparison.metrics[1]!.values, [null, 0.3]);
});
