/**
 * An MLP as ONNX: Gemm + Relu per hidden layer, then Gemm and the output link (Sigmoid,
 * Softmax or none), over input `features` float32 [N, width]; output `probability`
 * (classifiers) or `prediction` (regression), as the other trainers export. The layers
 * compute in float64 and round to float32 once, so every ONNX Runtime build (server,
 * browser) gives the same bits.
 */
import { GraphBuilder } from '../../onnx/builder.js';
import { addDense64, addLink64, castToFloat32, castToFloat64 } from '../../onnx/float64.js';
import { METADATA_ALGORITHM, METADATA_FEATURE_NAMES, MODEL_INPUT, MODEL_OUTPUT, type ExportOptions } from '../export.js';
import { REGRESSION_OUTPUT } from '../gbdt/export.js';
import type { MlpModel } from './mlp.js';

export function exportMlp(model: MlpModel, options: ExportOptions = {}): Uint8Array {
  const g = new GraphBuilder('loom_mlp');
  const width = model.layers[0].inputs;
  g.addInput(MODEL_INPUT, 'float32', [-1, width]);
  // Every layer in float64, rounded to float32 once at the end: the server and the browser then give the same bits (src/onnx/float64.ts).
  let current = castToFloat64(g, MODEL_INPUT);
  model.layers.forEach((layer, k) => {
    current = addLink64(g, addDense64(g, current, layer, { kernel: `dense_${k}_kernel`, bias: `dense_${k}_bias`, output: `dense_${k}` }), layer.activation);
  });
  const last = model.layers[model.layers.length - 1];
  const output = last.activation === 'linear' ? REGRESSION_OUTPUT : MODEL_OUTPUT;
  castToFloat32(g, current, output);
  g.addOutput(output, 'float32', [-1, last.units]);
  g.setMetadata(METADATA_ALGORITHM, `mlp_${model.objective}`);
  if (options.featureNames) g.setMetadata(METADATA_FEATURE_NAMES, JSON.stringify(options.featureNames));
  for (const [key, value] of Object.entries(options.metadata ?? {})) g.setMetadata(key, value);
  return g.toBytes();
}
