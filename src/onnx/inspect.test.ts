import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { GraphBuilder } from './builder.js';
import { readMetadata, readSignature } from './inspect.js';
import { decodeModel, encodeModel } from './proto.js';

function model(): Uint8Array {
  const g = new GraphBuilder('inspect');
  g.addInput('distance', 'float32', [-1, 1]);
  g.addInput('origin', 'string', [-1, 1]);
  g.addInput('hour', 'int64', [-1, 1]);
  g.addInitializer('w', new Float32Array([2]), [1, 1]);
  g.addNode('Mul', ['distance', 'w'], ['probability']);
  g.addOutput('probability', 'float32', [-1, 1]);
  g.setMetadata('loom.label_column', 'delayed');
  g.setMetadata('empty', '');
  return g.toBytes();
}

test('readSignature lists inputs and outputs as TensorSpecs with -1 for the batch', () => {
  assert.deepEqual(readSignature(model()), {
    inputs: [
      { name: 'distance', type: 'float32', shape: [-1, 1] },
      { name: 'origin', type: 'string', shape: [-1, 1] },
      { name: 'hour', type: 'int64', shape: [-1, 1] },
    ],
    outputs: [{ name: 'probability', type: 'float32', shape: [-1, 1] }],
  });
});

test('initializers listed as inputs (pre-IR-4 style) are not part of the signature', () => {
  const decoded = decodeModel(model());
  decoded.graph!.input!.push({ name: 'w', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }, { dim_value: 1 }] } } } });
  assert.deepEqual(readSignature(encodeModel(decoded)).inputs.map((input) => input.name), ['distance', 'origin', 'hour']);
});

test('readMetadata returns metadata_props as an object', () => {
  assert.deepEqual(readMetadata(model()), { 'loom.label_column': 'delayed', empty: '' });
});

test('a non-tensor or unknown-typed value is refused with INVALID_ARGUMENT', () => {
  const decoded = decodeModel(model());
  decoded.graph!.output![0].type = { tensor_type: { elem_type: 16 } }; // bfloat16
  assert.throws(() => readSignature(decoded), (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT');
});
