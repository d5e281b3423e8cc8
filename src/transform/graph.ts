/**
 * The fitted transform as an ONNX graph: one [N, 1] input per raw feature (float32,
 * int64 or string, named as the column), one float32 output `features` [N, width].
 * Training data, evaluation, batch scoring and serving all run this graph, so they
 * cannot disagree about a feature (principle 1).
 *
 * - z-score: missing (NaN, or `MISSING_INT64` for integers) becomes the mean, then
 *   (x - mean) / std in float32;
 * - vocabulary: LabelEncoder maps each value straight to its output column (unknown and
 *   missing values to the feature's out-of-vocabulary column).
 * The output is assembled by one ScatterElements of each row's z-scores and ones into a
 * zero matrix: measured about twice as fast as OneHot per feature and a Concat of the
 * blocks, which write every column twice.
 * The FittedTransform and the label column travel in `metadata_props`.
 *
 * Usage: `await writeFile('transform.onnx', buildTransformGraph(fitted));`
 */
import { LoomError } from '../core/errors.js';
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
  const values: string[] = [];
  const positions: number[] = [];
  const columns: string[] = [];
  let offset = 0;
  for (const feature of fitted.features) {
    if (feature.analyzer === 'zscore') {
      values.push(addZScore(g, feature));
      positions.push(offset);
    } else {
      columns.push(addVocabulary(g, feature, offset));
    }
    offset += feature.outputs.length;
  }
  if (offset !== fitted.outputWidth) {
    throw new LoomError('INVALID_ARGUMENT', `the fitted transform's outputs add up to ${offset} columns, not outputWidth ${fitted.outputWidth}`);
  }

  // [N, 1] * [1, c] = [N, c]: the shape of a batch-sized block, from any input's shape.
  const rowsShape = g.uniqueName('shape/rows');
  g.addNode('Shape', [fitted.features[0].name], [rowsShape]);
  const blockShape = (width: number, name: string): string => {
    const row = g.addInitializer(g.uniqueName(`${name}/width`), new BigInt64Array([1n, BigInt(width)]), [2]);
    const shape = g.uniqueName(`${name}/shape`);
    g.addNode('Mul', [rowsShape, row], [shape]);
    return shape;
  };
  const constantBlock = (width: number, fill: number, name: string): string => {
    const block = g.uniqueName(name);
    g.addNode('ConstantOfShape', [blockShape(width, name)], [block], { value: attr.tensor(new Float32Array([fill]), [1]) });
    return block;
  };

  const indices: string[] = [];
  const updates: string[] = [...values];
  if (positions.length > 0) {
    const constant = g.addInitializer(g.uniqueName('zscore/columns'), BigInt64Array.from(positions, BigInt), [1, positions.length]);
    const expanded = g.uniqueName('zscore/column_index');
    g.addNode('Expand', [constant, blockShape(positions.length, 'zscore')], [expanded]);
    indices.push(expanded);
  }
  if (columns.length > 0) {
    indices.push(...columns);
    updates.push(constantBlock(columns.length, 1, 'vocabulary/ones'));
  }
  const index = g.uniqueName('scatter/indices');
  g.addNode('Concat', indices, [index], { axis: attr.int(1) });
  const update = g.uniqueName('scatter/updates');
  g.addNode('Concat', updates, [update], { axis: attr.int(1) });
  const zeros = constantBlock(fitted.outputWidth, 0, 'scatter/zeros');
  g.addNode('ScatterElements', [zeros, index, update], [FEATURES_OUTPUT], { axis: attr.int(1) });
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

/** Appends the vocabulary lookup of one feature; returns the name of its [N, 1] int64 output column index. */
function addVocabulary(g: GraphBuilder, feature: VocabularyFeature, offset: number): string {
  const size = feature.vocabulary.length;
  const keys: Record<string, AttributeValue> =
    feature.rawType === 'int' ? { keys_int64s: attr.ints(feature.vocabulary) } : { keys_strings: attr.strings(feature.vocabulary) };
  const column = g.uniqueName(`${feature.name}/column`);
  const targets = feature.vocabulary.map((_, index) => offset + index);
  g.addNode('LabelEncoder', [feature.name], [column], { ...keys, values_int64s: attr.ints(targets), default_int64: attr.int(offset + size) }, ML);
  return column;
}
