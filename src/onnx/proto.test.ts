import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { GraphBuilder, attr } from './builder.js';
import { DataType, decodeModel, encodeModel } from './proto.js';

test('a model survives encode -> decode -> encode byte for byte', () => {
  const g = new GraphBuilder('roundtrip');
  g.addInput('x', 'float32', [-1, 2]);
  g.addInitializer('w', new Float32Array([1.5, -2]), [2, 1]);
  g.addNode('MatMul', ['x', 'w'], ['y']);
  g.addNode('LabelEncoder', ['s'], ['i'], { keys_strings: attr.strings(['a', 'é']), values_int64s: attr.ints([0, 1]), default_int64: attr.int(-1) }, 'ai.onnx.ml');
  g.addOutput('y', 'float32', [-1, 1]);
  g.setMetadata('k', 'v');
  const bytes = g.toBytes();
  const decoded = decodeModel(bytes);
  assert.equal(decoded.ir_version, 8);
  assert.deepEqual(decoded.opset_import, [{ domain: '', version: 17 }, { domain: 'ai.onnx.ml', version: 3 }]);
  assert.equal(decoded.graph?.initializer?.[0].data_type, DataType.FLOAT);
  assert.deepEqual(decoded.graph?.input?.[0].type?.tensor_type?.shape?.dim, [{ dim_param: 'N' }, { dim_value: 2 }]);
  const labelEncoder = decoded.graph?.node?.[1];
  assert.equal(new TextDecoder().decode(labelEncoder?.attribute?.[0].strings?.[1]), 'é');
  assert.deepEqual(decoded.metadata_props, [{ key: 'k', value: 'v' }]);
  assert.deepEqual(Buffer.from(encodeModel(decoded)), Buffer.from(bytes));
});

test('ONNX Runtime loads what encodeModel writes (field numbers match onnx.proto)', async () => {
  const g = new GraphBuilder('ort');
  g.addInput('x', 'float32', [-1, 2]);
  g.addInitializer('w', new Float32Array([1, 2]), [2, 1]);
  g.addNode('MatMul', ['x', 'w'], ['y']);
  g.addOutput('y', 'float32', [-1, 1]);
  g.setMetadata('loom.test', 'yes');
  const session = await ort.InferenceSession.create(encodeModel(decodeModel(g.toBytes())));
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 1, 2, 3]), [2, 2]) });
  assert.deepEqual([...(out.y.data as Float32Array)], [3, 8]);
  await session.release();
});

test('decodeModel rejects bytes that are not a model with INVALID_ARGUMENT', () => {
  assert.throws(
    () => decodeModel(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff])),
    (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT',
  );
});
