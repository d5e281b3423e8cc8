/**
 * A trained (multinomial) logistic regression as an ONNX graph over transformed features:
 * input `features` float32 [N, width] -> Gemm (weights [width, outputs], bias [outputs])
 * -> Sigmoid (one output: binary, `probability` [N, 1] is P(positive)) or Softmax
 * (outputs >= 3: multiclass, `probability` [N, outputs], one column per class, as the
 * GBDT exporter does). The arithmetic runs in float64 and rounds to float32 once, so every
 * ONNX Runtime build (server, browser) gives the same bits. This is the Model layout that
 * composes with the transform graph.
 *
 * Usage: `await writeFile('model.onnx', exportLogisticRegression(model, { featureNames }));`
 */
import { LoomError } from '../core/errors.js';
import { GraphBuilder } from '../onnx/builder.js';
import { addDense64, addLink64, castToFloat32, castToFloat64 } from '../onnx/float64.js';

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

/** A linear model's parameters: `outputs` is 1 (binary, a number or one bias) or the class count (>= 3). */
export interface LinearModelParameters {
  /** Row-major [width, outputs]; with one output, one weight per input column. */
  weights: ArrayLike<number>;
  /** One bias per output; a number for the binary model. */
  bias: number | ArrayLike<number>;
}

export function exportLogisticRegression(model: LinearModelParameters, options: ExportOptions = {}): Uint8Array {
  const bias = typeof model.bias === 'number' ? [model.bias] : Array.from(model.bias);
  const outputs = bias.length;
  if (outputs < 1 || outputs === 2) {
    throw new LoomError('INVALID_ARGUMENT', `a logistic regression has 1 output (binary) or one per class (3 or more), not ${outputs}`, {
      field: 'bias',
      fix: 'give a binary model one bias (a number) and weights [width]; give a multiclass model one bias and one weight column per class',
    });
  }
  const width = model.weights.length / outputs;
  if (!Number.isInteger(width) || width < 1) {
    throw new LoomError('INVALID_ARGUMENT', `${model.weights.length} weights do not make a [width, ${outputs}] matrix`, {
      field: 'weights',
      fix: `give width × ${outputs} weights, row-major (one row of ${outputs} per input column)`,
    });
  }
  if (options.featureNames && options.featureNames.length !== width) {
    throw new LoomError('INVALID_ARGUMENT', `${options.featureNames.length} feature names for ${width} input columns`, { field: 'featureNames' });
  }
  const g = new GraphBuilder('loom_logistic_regression');
  g.addInput(MODEL_INPUT, 'float32', [-1, width]);
  // In float64, rounded to float32 once: the server and the browser then give the same bits (src/onnx/float64.ts).
  const logit = addDense64(g, castToFloat64(g, MODEL_INPUT), { inputs: width, units: outputs, kernel: model.weights, bias }, { kernel: 'weights', bias: 'bias', output: 'logit' });
  castToFloat32(g, addLink64(g, logit, outputs === 1 ? 'sigmoid' : 'softmax'), MODEL_OUTPUT);
  g.addOutput(MODEL_OUTPUT, 'float32', [-1, outputs]);
  g.setMetadata(METADATA_ALGORITHM, outputs === 1 ? 'logistic_regression' : 'logistic_regression_multiclass');
  if (options.featureNames) g.setMetadata(METADATA_FEATURE_NAMES, JSON.stringify(options.featureNames));
  for (const [key, value] of Object.entries(options.metadata ?? {})) g.setMetadata(key, value);
  return g.toBytes();
}
