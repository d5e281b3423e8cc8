import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { GraphBuilder, attr } from './builder.js';
import { MISSING_INT64, toTensor } from './tensors.js';

test('numbers, bigints and missing values become float tensors with NaN for missing', () => {
  const tensor = toTensor({ name: 'distance', type: 'float32', shape: [-1, 1] }, [1.5, null, 3n, undefined]);
  assert.equal(tensor.type, 'float32');
  assert.deepEqual(tensor.dims, [4, 1]);
  const data = tensor.data as Float32Array;
  assert.deepEqual([data[0], data[2]], [1.5, 3]);
  assert.ok(Number.isNaN(data[1]) && Number.isNaN(data[3]));
  assert.ok(toTensor({ name: 'd', type: 'float64', shape: [-1] }, [0.1]).data instanceof Float64Array);
});

test('integers become int64 with the missing sentinel; strings get "" for missing', () => {
  const ints = toTensor({ name: 'hour', type: 'int64', shape: [-1, 1] }, [7, 8n, null, true]);
  assert.deepEqual([...(ints.data as BigInt64Array)], [7n, 8n, MISSING_INT64, 1n]);
  const strings = toTensor({ name: 'origin', type: 'string', shape: [-1, 1] }, ['ORD', null]);
  assert.deepEqual(strings.data, ['ORD', '']);
  assert.deepEqual([...(toTensor({ name: 'b', type: 'bool', shape: [-1] }, [true, false]).data as Uint8Array)], [1, 0]);
});

test('fixed dimensions beside the batch dimension divide the values into rows', () => {
  const tensor = toTensor({ name: 'features', type: 'float32', shape: [-1, 3] }, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(tensor.dims, [2, 3]);
  assert.throws(() => toTensor({ name: 'features', type: 'float32', shape: [-1, 3] }, [1, 2]), (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT');
});

test('a value of the wrong type fails with INVALID_ARGUMENT naming the field and the row', () => {
  const check = (spec: Parameters<typeof toTensor>[0], values: unknown[], field: string) =>
    assert.throws(
      () => toTensor(spec, values),
      (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT' && error.field === field && error.message.includes(field),
    );
  check({ name: 'distance', type: 'float32', shape: [-1, 1] }, [1, '2'], 'distance[1]');
  check({ name: 'hour', type: 'int64', shape: [-1, 1] }, [1, 2, 3.5], 'hour[2]');
  check({ name: 'origin', type: 'string', shape: [-1, 1] }, [7], 'origin[0]');
  check({ name: 'flag', type: 'bool', shape: [-1] }, [1], 'flag[0]');
  check({ name: 'features', type: 'float32', shape: [-1, 2] }, [1, 2, 3, {}], 'features[1]');
  // Serving names fields its own way.
  assert.throws(
    () => toTensor({ name: 'origin', type: 'string', shape: [-1, 1] }, ['a', 1], { fieldName: (row) => `instances[${row}].origin` }),
    (error: unknown) => error instanceof LoomError && error.field === 'instances[1].origin',
  );
});

test('the int64 missing sentinel falls into the out-of-vocabulary index of a vocabulary', async () => {
  const g = new GraphBuilder('vocabulary');
  g.addInput('hour', 'int64', [-1, 1]);
  g.addNode('LabelEncoder', ['hour'], ['index'], { keys_int64s: attr.ints([0, 1, 2]), values_int64s: attr.ints([0, 1, 2]), default_int64: attr.int(3) }, 'ai.onnx.ml');
  g.addOutput('index', 'int64', [-1, 1]);
  const session = await ort.InferenceSession.create(g.toBytes());
  const out = await session.run({ hour: toTensor({ name: 'hour', type: 'int64', shape: [-1, 1] }, [2, null, 0]) });
  assert.deepEqual([...(out.index.data as BigInt64Array)], [2n, 3n, 0n]);
  await session.release();
});
