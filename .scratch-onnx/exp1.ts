import ort from 'onnxruntime-node';
import { GraphBuilder, attr } from '../src/onnx/builder.js';

async function run(g: GraphBuilder, feeds: Record<string, ort.Tensor>) {
  const s = await ort.InferenceSession.create(g.toBytes());
  const out = await s.run(feeds);
  for (const [k, v] of Object.entries(out)) console.log(k, v.type, v.dims, v.data);
}
// int64->int64 LabelEncoder
{
  const g = new GraphBuilder('t');
  g.addInput('x', 'int64', [-1, 1]);
  g.addNode('LabelEncoder', ['x'], ['y'], { keys_int64s: attr.ints([3, 5, 7]), values_int64s: attr.ints([0, 1, 2]), default_int64: attr.int(3) }, 'ai.onnx.ml');
  g.addOutput('y', 'int64', [-1, 1]);
  try { await run(g, { x: new ort.Tensor('int64', new BigInt64Array([3n, 7n, 4n, -9223372036854775808n]), [4, 1]) }); } catch (e) { console.log('int64 LE failed', (e as Error).message); }
}
// string->int64 + OneHot + Reshape
{
  const g = new GraphBuilder('t');
  g.addInput('x', 'string', [-1, 1]);
  g.addNode('LabelEncoder', ['x'], ['idx'], { keys_strings: attr.strings(['a', 'b']), values_int64s: attr.ints([0, 1]), default_int64: attr.int(2) }, 'ai.onnx.ml');
  g.addInitializer('depth', new BigInt64Array([3n]), []);
  g.addInitializer('vals', new Float32Array([0, 1]), [2]);
  g.addNode('OneHot', ['idx', 'depth', 'vals'], ['oh'], { axis: attr.int(-1) });
  g.addInitializer('shape', new BigInt64Array([-1n, 3n]), [2]);
  g.addNode('Reshape', ['oh', 'shape'], ['y']);
  g.addInput('f', 'float32', [-1, 1]);
  g.addNode('IsNaN', ['f'], ['isnan']);
  g.addInitializer('mean', new Float32Array([2.5]), [1, 1]);
  g.addNode('Where', ['isnan', 'mean', 'f'], ['fi']);
  g.addNode('Concat', ['y', 'fi'], ['features'], { axis: attr.int(1) });
  g.addOutput('features', 'float32', [-1, 4]);
  await run(g, { x: new ort.Tensor('string', ['a', 'zz', 'b', ''], [4, 1]), f: new ort.Tensor('float32', new Float32Array([1, NaN, 3, 4]), [4, 1]) });
}
