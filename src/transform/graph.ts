/**
 * The fitted transform as an ONNX graph: one [N, 1] input per raw feature (float32,
 * int64 or string, named as the column), one float32 output `features` [N, width].
 * Training data, evaluation, batch scoring and serving all run this graph, so they
 * cannot disagree about a feature (principle 1).
 *
 * - z-score: missing (NaN, or `MISSING_INT64` for integers) becomes the mean, then
 *   (x - mean) / std in float32;
 * - vocabulary: LabelEncoder value -> index (default: the out-of-vocabulary index),
 *   then OneHot over vocabulary + OOV.
 * The FittedTransform and the label column travel in `metadata_props`.
 *
 * Usage: `await writeFile('transform.onnx', buildTransformGraph(fitted));`
 */
import { GraphBuilder, attr, type AttributeValue } from '../onnx/builder.js';
import { MISSING_INT64 } from '../onnx/tensors.js';
import type { TensorSpec } from '../registry/types.js';
import type { FittedFeature, FittedTransform, VocabularyFeature, ZScoreFeature } from './analyzers.js';

/** The output every transform graph produces and every trainer consumes. */
export const FEATURES_OUTPUT = 'features';
/** metadata_props keys. */
export const METADATA_TRANSFORM = 'loom.transform';
export const METADATA_LABEL_COLUMN = 'loom.label_column';

const ML = 'ai.onnx.ml';

/** The graph's inputs: what a caller of the transform (or the served model) must send. */
export function transformInputs(fitted: FittedTransform): TensorSpec[] {
  return fitted.features.map((feature) => ({ name: feature.name, type: inputType(feature), shape: [-1, 1] }));
}

/** The transform graph as the bytes of a `.onnx` file. */
export function buildTransformGraph(fitted: FittedTransform): Uint8Array {
  const g = new GraphBuilder('loom_transform');
  for (const spec of transformInputs(fitted)) g.addInput(spec.name, spec.type, spec.shape);
  const pieces = fitted.features.map((feature) =>
    feature.analyzer === 'zscore' ? addZScore(g, feature) : addVocabulary(g, feature),
  );
  g.addNode('Concat', pieces, [FEATURES_OUTPUT], { axis: attr.int(1) });
  g.addOutput(FEATURES_OUTPUT, 'float32', [-1, fitted.outputWidth]);
  g.setMetadata(METADATA_TRANSFORM, JSON.stringify(fitted));
  g.setMetadata(METADATA_LABEL_COLUMN, fitted.labelColumn);
  return g.toBytes();
}

function inputType(feature: FittedFeature): TensorSpec['type'] {
  if (feature.rawType === 'float') return 'float32';
  return feature.rawType === 'int' ? 'int64' : 'string';
}

/** Appends the z-score of one feature; returns the name of its [N, 1] float output. */
function addZScore(g: GraphBuilder, feature: ZScoreFeature): string {
  const base = feature.name;
  const mean = g.addInitializer(g.uniqueName(`${base}/mean`), new Float32Array([feature.mean]), [1, 1]);
  const std = g.addInitializer(g.uniqueName(`${base}/std`), new Float32Array([feature.std]), [1, 1]);
  const missing = g.uniqueName(`${base}/missing`);
  let value = feature.name;
  if (feature.rawType === 'int') {
    const sentinel = g.addInitializer(g.uniqueName(`${base}/missing_value`), new BigInt64Array([MISSING_INT64]), [1, 1]);
    g.addNode('Equal', [feature.name, sentinel], [missing]);
    value = g.uniqueName(`${base}/float`);
    g.addNode('Cast', [feature.name], [value], { to: attr.int(1) }); // 1 = FLOAT
  } else {
    g.addNode('IsNaN', [feature.name], [missing]);
  }
  const imputed = g.uniqueName(`${base}/imputed`);
  g.addNode('Where', [missing, mean, value], [imputed]);
  const centred = g.uniqueName(`${base}/centred`);
  g.addNode('Sub', [imputed, mean], [centred]);
  const scaled = g.uniqueName(`${base}/zscore`);
  g.addNode('Div', [centred, std], [scaled]);
  return scaled;
}

/** Appends the one-hot of one feature's vocabulary index; returns the name of its [N, k + 1] float output. */
function addVocabulary(g: GraphBuilder, feature: VocabularyFeature): string {
  const base = feature.name;
  const size = feature.vocabulary.length;
  const indices = feature.vocabulary.map((_, index) => index);
  const keys: Record<string, AttributeValue> =
    feature.rawType === 'int' ? { keys_int64s: attr.ints(feature.vocabulary) } : { keys_strings: attr.strings(feature.vocabulary) };
  const index = g.uniqueName(`${base}/index`);
  g.addNode('LabelEncoder', [feature.name], [index], { ...keys, values_int64s: attr.ints(indices), default_int64: attr.int(size) }, ML);
  const depth = g.addInitializer(g.uniqueName(`${base}/depth`), new BigInt64Array([BigInt(size + 1)]), []);
  const onOff = g.addInitializer(g.uniqueName(`${base}/on_off`), new Float32Array([0, 1]), [2]);
  const oneHot = g.uniqueName(`${base}/one_hot3d`);
  g.addNode('OneHot', [index, depth, onOff], [oneHot], { axis: attr.int(-1) });
  const shape = g.addInitializer(g.uniqueName(`${base}/shape`), new BigInt64Array([-1n, BigInt(size + 1)]), [2]);
  const flat = g.uniqueName(`${base}/one_hot`);
  g.addNode('Reshape', [oneHot, shape], [flat]);
  return flat;
}
