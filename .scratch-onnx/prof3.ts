import ort from 'onnxruntime-node';
import { GraphBuilder, attr } from '../src/onnx/builder.js';
const N = 65536;
const vocab = Array.from({ length: 60 }, (_, i) => `A${i}`);
const strs = Array.from({ length: N }, (_, i) => `A${i % 80}`);
async function time(name: string, g: GraphBuilder, feeds: Record<string, ort.Tensor>) {
  const s = await ort.InferenceSession.create(g.toBytes());
  await s.run(feeds);
  const t = performance.now();
  for (let i = 0; i < 5; i++) await s.run(feeds);
  console.log(name, ((performance.now() - t) / 5).toFixed(1), 'ms');
}
{ const g = new GraphBuilder('le'); g.addInput('s', 'string', [-1, 1]);
  g.addNode('LabelEncoder', ['s'], ['i'], { keys_strings: attr.strings(vocab), values_int64s: attr.ints(vocab.map((_, i) => i)), default_int64: attr.int(60) }, 'ai.onnx.ml');
  g.addOutput('i', 'int64', [-1, 1]);
  await time('labelencoder string', g, { s: new ort.Tensor('string', strs, [N, 1]) }); }
{ const g = new GraphBuilder('oh'); g.addInput('i', 'int64', [-1, 1]);
  g.addInitializer('d', new BigInt64Array([61n]), []); g.addInitializer('v', new Float32Array([0, 1]), [2]);
  g.addNode('OneHot', ['i', 'd', 'v'], ['o'], { axis: attr.int(-1) });
  g.addOutput('o', 'float32', [-1, 1, 61]);
  await time('onehot', g, { i: new ort.Tensor('int64', BigInt64Array.from({ length: N }, (_, k) => BigInt(k % 61)), [N, 1]) }); }
{ const g = new GraphBuilder('ohe'); g.addInput('i', 'int64', [-1, 1]);
  g.addNode('OneHotEncoder', ['i'], ['o'], { cats_int64s: attr.ints(Array.from({ length: 61 }, (_, k) => k)), zeros: attr.int(1) }, 'ai.onnx.ml');
  g.addOutput('o', 'float32', [-1, 1, 61]);
  await time('onehotencoder', g, { i: new ort.Tensor('int64', BigInt64Array.from({ length: N }, (_, k) => BigInt(k % 61)), [N, 1]) }); }
{ const g = new GraphBuilder('gather'); g.addInput('i', 'int64', [-1, 1]);
  const eye = new Float32Array(61 * 61); for (let k = 0; k < 61; k++) eye[k * 61 + k] = 1;
  g.addInitializer('eye', eye, [61, 61]);
  g.addNode('Gather', ['eye', 'i'], ['o'], { axis: attr.int(0) });
  g.addOutput('o', 'float32', [-1, 1, 61]);
  await time('gather eye', g, { i: new ort.Tensor('int64', BigInt64Array.from({ length: N }, (_, k) => BigInt(k % 61)), [N, 1]) }); }
{ const g = new GraphBuilder('concat'); g.addInput('a', 'float32', [-1, 61]); g.addInput('b', 'float32', [-1, 61]);
  g.addNode('Concat', ['a', 'b'], ['o'], { axis: attr.int(1) });
  g.addOutput('o', 'float32', [-1, 122]);
  await time('concat', g, { a: new ort.Tensor('float32', new Float32Array(N * 61), [N, 61]), b: new ort.Tensor('float32', new Float32Array(N * 61), [N, 61]) }); }
{ const g = new GraphBuilder('le'); g.addInput('s', 'int64', [-1, 1]);
  g.addNode('LabelEncoder', ['s'], ['i'], { keys_int64s: attr.ints(vocab.map((_, i) => i)), values_int64s: attr.ints(vocab.map((_, i) => i)), default_int64: attr.int(60) }, 'ai.onnx.ml');
  g.addOutput('i', 'int64', [-1, 1]);
  await time('labelencoder int', g, { s: new ort.Tensor('int64', BigInt64Array.from({ length: N }, (_, k) => BigInt(k % 61)), [N, 1]) }); }
