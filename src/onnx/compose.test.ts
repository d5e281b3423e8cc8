import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { GraphBuilder, attr } from './builder.js';
import { composeGraphs } from './compose.js';
import { readMetadata, readSignature } from './inspect.js';
import { encodeModel } from './proto.js';

/** A "transform": scales a number and one-hots a string; its internal names clash with the model's on purpose. */
function first(): Uint8Array {
  const g = new GraphBuilder('first');
  g.addInput('distance', 'float32', [-1, 1]);
  g.addInput('origin', 'string', [-1, 1]);
  g.addInitializer('w', new Float32Array([0.001]), [1, 1]);
  g.addNode('Mul', ['distance', 'w'], ['t']);
  g.addNode('LabelEncoder', ['origin'], ['index'], { keys_strings: attr.strings(['ORD', 'SFO']), values_int64s: attr.ints([0, 1]), default_int64: attr.int(2) }, 'ai.onnx.ml');
  g.addInitializer('depth', new BigInt64Array([3n]), []);
  g.addInitializer('on_off', new Float32Array([0, 1]), [2]);
  g.addNode('OneHot', ['index', 'depth', 'on_off'], ['one_hot3d'], { axis: attr.int(-1) });
  g.addInitializer('shape', new BigInt64Array([-1n, 3n]), [2]);
  g.addNode('Reshape', ['one_hot3d', 'shape'], ['one_hot']);
  g.addNode('Concat', ['t', 'one_hot'], ['features'], { axis: attr.int(1) });
  g.addOutput('features', 'float32', [-1, 4]);
  g.addOutput('t', 'float32', [-1, 1]);
  g.setMetadata('shared', 'from first');
  g.setMetadata('only_first', '1');
  return g.toBytes();
}

function second(): Uint8Array {
  const g = new GraphBuilder('second');
  g.addInput('x', 'float32', [-1, 4]);
  g.addInitializer('w', new Float32Array([0.5, -1, 2, 0.25]), [4, 1]);
  g.addInitializer('b', new Float32Array([0.1]), [1, 1]);
  g.addNode('Gemm', ['x', 'w', 'b'], ['t']);
  g.addNode('Sigmoid', ['t'], ['probability']);
  g.addOutput('probability', 'float32', [-1, 1]);
  g.setMetadata('shared', 'from second');
  return g.toBytes();
}

const feeds = () => ({
  distance: new ort.Tensor('float32', new Float32Array([1200, 300, NaN, 2500]), [4, 1]),
  origin: new ort.Tensor('string', ['ORD', 'SFO', 'LAX', ''], [4, 1]),
});

test('the composed graph gives exactly what running the two models in turn gives', async () => {
  const a = await ort.InferenceSession.create(first());
  const b = await ort.InferenceSession.create(second());
  const features = (await a.run(feeds())).features;
  const expected = (await b.run({ x: features })).probability.data as Float32Array;

  const composed = composeGraphs(first(), second(), { connect: { features: 'x' } });
  const session = await ort.InferenceSession.create(encodeModel(composed));
  const actual = (await session.run(feeds())).probability.data as Float32Array;
  assert.deepEqual([...actual], [...expected]);
  assert.deepEqual(session.inputNames, ['distance', 'origin']);
  assert.deepEqual(session.outputNames, ['probability']);
  for (const s of [a, b, session]) await s.release();
});

test('internal names are prefixed, inputs and the second model outputs keep theirs, metadata merges', () => {
  const composed = composeGraphs(first(), second(), { connect: { features: 'x' }, prefixes: ['transform/', 'model/'] });
  const initializers = composed.graph?.initializer?.map((tensor) => tensor.name);
  assert.ok(initializers?.includes('transform/w') && initializers.includes('model/w'));
  assert.deepEqual(readSignature(composed), {
    inputs: [
      { name: 'distance', type: 'float32', shape: [-1, 1] },
      { name: 'origin', type: 'string', shape: [-1, 1] },
    ],
    outputs: [{ name: 'probability', type: 'float32', shape: [-1, 1] }],
  });
  const gemm = composed.graph?.node?.find((node) => node.op_type === 'Gemm');
  assert.deepEqual(gemm?.input, ['transform/features', 'model/w', 'model/b']);
  assert.deepEqual(readMetadata(composed), { shared: 'from second', only_first: '1' });
  assert.deepEqual(composed.opset_import, [{ domain: '', version: 17 }, { domain: 'ai.onnx.ml', version: 3 }]);
});

test('connecting a missing output or input, or leaving an input unconnected, is INVALID_ARGUMENT', () => {
  const isInvalid = (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT';
  assert.throws(() => composeGraphs(first(), second(), { connect: { nope: 'x' } }), isInvalid);
  assert.throws(() => composeGraphs(first(), second(), { connect: { features: 'nope' } }), isInvalid);
  assert.throws(() => composeGraphs(first(), second(), { connect: {} }), isInvalid);
});
