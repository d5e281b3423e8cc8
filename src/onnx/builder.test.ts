import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { GraphBuilder, attr } from './builder.js';
import { readMetadata, readSignature } from './inspect.js';

async function run(g: GraphBuilder, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(g.toBytes());
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

test('every attribute kind and initializer type reaches ONNX Runtime intact', async () => {
  const g = new GraphBuilder('kinds');
  g.addInput('x', 'float32', [-1, 2]);
  g.addInput('s', 'string', [-1, 1]);
  // floats: Scaler computes (x - offset) * scale per column.
  g.addNode('Scaler', ['x'], ['scaled'], { offset: attr.floats([1, 2]), scale: attr.floats([10, 0.5]) }, 'ai.onnx.ml');
  // float: LeakyRelu's alpha.
  g.addNode('LeakyRelu', ['scaled'], ['leaky'], { alpha: attr.float(0.25) });
  // tensor: a Constant node's value.
  g.addNode('Constant', [], ['one_hundred'], { value: attr.tensor(new Float32Array([100]), [1, 1]) });
  g.addNode('Add', ['leaky', 'one_hundred'], ['shifted']);
  // strings, ints, int: LabelEncoder.
  g.addNode('LabelEncoder', ['s'], ['code'], { keys_strings: attr.strings(['a', 'b']), values_int64s: attr.ints([7, 9]), default_int64: attr.int(-1) }, 'ai.onnx.ml');
  // Initializers of every numeric type, fed through ops that check their types.
  g.addInitializer('i64', new BigInt64Array([5n]), [1, 1]);
  g.addNode('Add', ['code', 'i64'], ['code_plus']);
  g.addInitializer('f64', new Float64Array([0.5]), [1]);
  g.addNode('Cast', ['code_plus'], ['code_f64'], { to: attr.int(11) });
  g.addNode('Add', ['code_f64', 'f64'], ['code_half']);
  g.addInitializer('i32', new Int32Array([2]), [1]);
  g.addInitializer('words', ['x', 'y'], [2]);
  g.addNode('Identity', ['words'], ['words_out']);
  g.addNode('Identity', ['i32'], ['i32_out']);
  g.addOutput('shifted', 'float32', [-1, 2]);
  g.addOutput('code_half', 'float64', [-1, 1]);
  g.addOutput('words_out', 'string', [2]);
  g.addOutput('i32_out', 'int32', [1]);

  const out = await run(g, {
    x: new ort.Tensor('float32', new Float32Array([2, 4, 0, 2]), [2, 2]),
    s: new ort.Tensor('string', ['b', 'zzz'], [2, 1]),
  });
  // Row 1: (2-1)*10 = 10, (4-2)*.5 = 1; row 2: (0-1)*10 = -10 -> leaky -2.5, 0.
  assert.deepEqual([...(out.shifted.data as Float32Array)], [110, 101, 97.5, 100]);
  assert.deepEqual([...(out.code_half.data as Float64Array)], [14.5, 4.5]);
  assert.deepEqual(out.words_out.data, ['x', 'y']);
  assert.deepEqual([...(out.i32_out.data as Int32Array)], [2]);
});

test('inputs have a dynamic batch dimension and metadata is stored', async () => {
  const g = new GraphBuilder('dynamic');
  g.addInput('x', 'float32', [-1, 1]);
  g.addNode('Sigmoid', ['x'], ['p']);
  g.addOutput('p', 'float32', [-1, 1]);
  g.setMetadata('loom.note', 'hello');
  for (const rows of [1, 5]) {
    const out = await run(g, { x: new ort.Tensor('float32', new Float32Array(rows), [rows, 1]) });
    assert.deepEqual(out.p.dims, [rows, 1]);
  }
  const bytes = g.toBytes();
  assert.deepEqual(readSignature(bytes).inputs, [{ name: 'x', type: 'float32', shape: [-1, 1] }]);
  assert.equal(readMetadata(bytes)['loom.note'], 'hello');
});

test('a value defined twice, a wrong-sized initializer or an unknown domain is refused', () => {
  const isInvalid = (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT';
  const g = new GraphBuilder('bad');
  g.addInput('x', 'float32', [-1, 1]);
  assert.throws(() => g.addNode('Relu', ['x'], ['x']), isInvalid);
  assert.throws(() => g.addInitializer('w', new Float32Array(3), [2, 2]), isInvalid);
  assert.throws(() => g.addNode('Foo', ['x'], ['y'], {}, 'com.example'), isInvalid);
  assert.throws(() => attr.int(1.5), isInvalid);
});

test('uniqueName never hands out a name twice', () => {
  const g = new GraphBuilder('names');
  g.addInput('v', 'float32', [-1, 1]);
  const a = g.uniqueName('v');
  const b = g.uniqueName('v');
  assert.notEqual(a, 'v');
  assert.notEqual(a, b);
  g.addNode('Relu', ['v'], [a]);
  g.addNode('Relu', [a], [b]);
});
