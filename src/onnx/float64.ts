/**
 * Float64 arithmetic inside float32 graphs, so that every ONNX Runtime build gives the
 * same float32 bits. In float32, ONNX Runtime's kernels differ between builds: the native
 * CPU provider (onnxruntime-node, the server) multiplies matrices with FMA (AVX2/AVX-512)
 * kernels in its own blocking order, the WebAssembly build (onnxruntime-web, the browser)
 * with other kernels and another order, and float32 Sigmoid is MLAS's polynomial
 * approximation, tuned per instruction set; a tree ensemble's float32 sum also depends on
 * how many threads split the trees. Measured on flights rows before this: 10-30% of
 * probabilities differed, by up to 8 float32 ULPs (Gemm) and 32 (GBDT Sigmoid).
 *
 * In float64 those differences stay in the last bits of a double, and the one rounding to
 * float32 at the end erases them. This is not a proof: two doubles that straddle a float32
 * rounding boundary still round two ways; with float32 spacing ~2^29 times a double's and
 * the summation error of a few hundred terms, the odds stay below one in a million per
 * value. Measured: no differing value (src/onnx/float64.test.ts in Node,
 * src/serve/routes/browser-page.test.ts in Chromium). The model's input and output stay
 * float32, so signatures do not change. Cost: see bench/results/float64-models.md.
 *
 * Usage:
 *   const x = castToFloat64(g, 'features');
 *   const hidden = addDense64(g, x, { kernel, bias, inputs, units }, { kernel: 'k0', bias: 'b0', output: 'dense_0' });
 *   castToFloat32(g, addLink64(g, hidden, 'sigmoid'), 'probability');
 */
import { attr, type GraphBuilder } from './builder.js';
import { DataType } from './proto.js';

/** A dense layer's parameters: kernel row-major [inputs, units], bias [units]. */
export interface DenseParameters {
  inputs: number;
  units: number;
  kernel: ArrayLike<number>;
  bias: ArrayLike<number>;
}

/** The output function applied after the last layer (the same names the trainers use). */
export type Link = 'sigmoid' | 'softmax' | 'relu' | 'linear';

/** Cast `input` to float64; returns the new value's name. */
export function castToFloat64(g: GraphBuilder, input: string): string {
  const output = g.uniqueName(`${input}_f64`);
  g.addNode('Cast', [input], [output], { to: attr.int(DataType.DOUBLE) });
  return output;
}

/** Cast a float64 value to float32 as `output` (the graph's one rounding to float32). */
export function castToFloat32(g: GraphBuilder, input: string, output: string): string {
  g.addNode('Cast', [input], [output], { to: attr.int(DataType.FLOAT) });
  return output;
}

/** Names of a dense layer's values in the graph. */
export interface DenseNames {
  /** The float32 initializers holding the parameters (kept float32 and named as before, so readers such as warm start find them). */
  kernel: string;
  bias: string;
  /** The float64 result. */
  output: string;
}

/**
 * `input` (float64 [N, inputs]) × kernel + bias in float64, by a Gemm. The parameters are
 * stored as float32 initializers and widened by a Cast, which ONNX Runtime folds into a
 * float64 constant when it loads the graph: the file stays as small as a float32 model's
 * and the arithmetic is float64.
 */
export function addDense64(g: GraphBuilder, input: string, layer: DenseParameters, names: DenseNames): string {
  const kernel = g.addInitializer(names.kernel, Float32Array.from(layer.kernel), [layer.inputs, layer.units]);
  const bias = g.addInitializer(names.bias, Float32Array.from(layer.bias), [layer.units]);
  g.addNode('Gemm', [input, castToFloat64(g, kernel), castToFloat64(g, bias)], [names.output], { alpha: attr.float(1), beta: attr.float(1) });
  return names.output;
}

/** The activation `link` on a float64 value [N, units] (softmax over axis 1); returns the result's name. */
export function addLink64(g: GraphBuilder, input: string, link: Link): string {
  if (link === 'linear') return input;
  const output = g.uniqueName(link);
  if (link === 'softmax') g.addNode('Softmax', [input], [output], { axis: attr.int(1) });
  else g.addNode(link === 'sigmoid' ? 'Sigmoid' : 'Relu', [input], [output]);
  return output;
}
