/**
 * A trained logistic regression as an ONNX graph over transformed features: input
 * `features` float32 [N, width] -> Gemm (weights, bias) -> Sigmoid -> output
 * `probability` float32 [N, 1]. This is the Model layout that composes with the
 * transform graph.
 *
 * Usage: `await writeFile('model.onnx', exportLogisticRegression(model, { featureNames }));`
 */
import { LoomError } from '../core/errors.js';
import { GraphBuilder, attr } from '../onnx/builder.js';

export const MODEL_INPUT = 'features';
export const MODEL_OUTPUT = 'probability';
/** metadata_props keys. */
export const METADATA_ALGORITHM = 'loom.algorithm';
export const METADATA_FEATURE_NAMES = 'loom.feature_names';

export interface ExportOptions {
  /** Names of the input columns, kept in the model's metadata. */
  featureNames?: string[];
  /** Further metadata_props entries. */
  metadata?: Record<string, string>;
}

export function exportLogisticRegression(model: { weights: ArrayLike<number>; bias: number }, options: ExportOptions = {}): Uint8Array {
  const width = model.weights.length;
  if (width < 1) throw new LoomError('INVALID_ARGUMENT', 'the model has no weights');
  if (options.featureNames && options.featureNames.length !== width) {
    throw new LoomError('INVALID_ARGUMENT', `${options.featureNames.length} feature names for ${width} weights`, { field: 'featureNames' });
  }
  const g = new GraphBuilder('loom_logistic_regression');
  g.addInput(MODEL_INPUT, 'float32', [-1, width]);
  const weights = g.addInitializer('weights', Float32Array.from(model.weights), [width, 1]);
  const bias = g.addInitializer('bias', new Float32Array([model.bias]), [1, 1]);
  g.addNode('Gemm', [MODEL_INPUT, weights, bias], ['logit'], { alpha: attr.float(1), beta: attr.float(1) });
  g.addNode('Sigmoid', ['logit'], [MODEL_OUTPUT]);
  g.addOutput(MODEL_OUTPUT, 'float32', [-1, 1]);
  g.setMetadata(METADATA_ALGORITHM, 'logistic_regression');
  if (options.featureNames) g.setMetadata(METADATA_FEATURE_NAMES, JSON.stringify(options.featureNames));
  for (const [key, value] of Object.entries(options.metadata ?? {})) g.setMetadata(key, value);
  return g.toBytes();
}
