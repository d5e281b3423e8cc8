/**
 * An MLP as ONNX: Gemm + Relu per hidden layer, then Gemm and the output link (Sigmoid,
 * Softmax or none), over input `features` float32 [N, width]; output `probability`
 * (classifiers) or `prediction` (regression), as the other trainers export.
 */
import { GraphBuilder, attr } from '../../onnx/builder.js';
import { METADATA_ALGORITHM, METADATA_FEATURE_NAMES, MODEL_INPUT, MODEL_OUTPUT, type ExportOptions } from '../export.js';
import { REGRESSION_OUTPUT } from '../gbdt/export.js';
import type { MlpModel } from './mlp.js';

export function exportMlp(model: MlpModel, options: ExportOptions = {}): Uint8Array {
  const g = new GraphBuilder('loom_mlp');
  const width = model.layers[0].inputs;
  g.addInput(MODEL_INPUT, 'float32', [-1, width]);
  let current = MODEL_INPUT;
  model.layers.forEach((layer, k) => {
    const kernel = g.addInitializer(`dense_${k}_kernel`, layer.kernel, [layer.inputs, layer.units]);
    const bias = g.addInitializer(`dense_${k}_bias`, layer.bias, [layer.units]);
    const linear = g.uniqueName(`dense_${k}`);
    g.addNode('Gemm', [current, kernel, bias], [linear], { alpha: attr.float(1), beta: attr.float(1) });
    current = linear;
    if (layer.activation === 'linear') return;
    const isLast = k === model.layers.length - 1;
    const activated = isLast ? MODEL_OUTPUT : g.uniqueName(`relu_${k}`);
    if (layer.activation === 'relu') g.addNode('Relu', [current], [activated]);
    else if (layer.activation === 'sigmoid') g.addNode('Sigmoid', [current], [activated]);
    else g.addNode('Softmax', [current], [activated], { axis: attr.int(1) });
    current = activated;
  });
  const last = model.layers[model.layers.length - 1];
  if (last.activation === 'linear') {
    g.addNode('Identity', [current], [REGRESSION_OUTPUT]);
    g.addOutput(REGRESSION_OUTPUT, 'float32', [-1, 1]);
  } else {
    g.addOutput(MODEL_OUTPUT, 'float32', [-1, last.units]);
  }
  g.setMetadata(METADATA_ALGORITHM, `mlp_${model.objective}`);
  if (options.featureNames) g.setMetadata(METADATA_FEATURE_NAMES, JSON.stringify(options.featureNames));
  for (const [key, value] of Object.entries(options.metadata ?? {})) g.setMetadata(key, value);
  return g.toBytes();
}
