/**
 * Gradient-boosted trees as ONNX: one ai.onnx.ml TreeEnsembleRegressor computes the raw
 * score of every output (base value + the sum of each output's trees), then Sigmoid
 * (binary) or Softmax (multiclass) turns scores into probabilities; regression outputs the
 * score. Using the regressor plus an explicit link keeps the probabilities exactly the
 * trained ones for both classes, which TreeEnsembleClassifier's binary conventions make easy
 * to get wrong. Input `features` float32 [N, width], as the transform graph produces.
 *
 * The trees sum in float64 and the link runs in float64, each rounded to float32 once, so
 * ONNX Runtime gives the same bits on the server (any thread count) and in the browser.
 */
import { LoomError } from '../../core/errors.js';
import { GraphBuilder, attr } from '../../onnx/builder.js';
import { addLink64, castToFloat32, castToFloat64 } from '../../onnx/float64.js';
import { METADATA_ALGORITHM, METADATA_FEATURE_NAMES, MODEL_INPUT, MODEL_OUTPUT, type ExportOptions } from '../export.js';
import type { GbdtModel } from './boost.js';

/** Output name of a regression model (classifiers output `probability`). */
export const REGRESSION_OUTPUT = 'prediction';

export function exportGbdt(model: GbdtModel, options: ExportOptions = {}): Uint8Array {
  if (options.featureNames && options.featureNames.length !== model.width) {
    throw new LoomError('INVALID_ARGUMENT', `${options.featureNames.length} feature names for ${model.width} input columns`, { field: 'featureNames' });
  }
  const g = new GraphBuilder('loom_gbdt');
  g.addInput(MODEL_INPUT, 'float32', [-1, model.width]);
  // Float64 input makes ONNX Runtime sum the leaves in float64 and round the score once, so the
  // sum no longer depends on how many threads split the trees; thresholds stay the float32 ones.
  g.addNode('TreeEnsembleRegressor', [castToFloat64(g, MODEL_INPUT)], ['score'], ensembleAttributes(model), 'ai.onnx.ml');
  if (model.objective === 'regression') {
    g.addNode('Identity', ['score'], [REGRESSION_OUTPUT]);
    g.addOutput(REGRESSION_OUTPUT, 'float32', [-1, 1]);
  } else {
    // The link in float64, rounded to float32 once: float32 Sigmoid is MLAS's per-instruction-set
    // approximation, which differs between the server and the browser (src/onnx/float64.ts).
    castToFloat32(g, addLink64(g, castToFloat64(g, 'score'), model.objective === 'binary' ? 'sigmoid' : 'softmax'), MODEL_OUTPUT);
    g.addOutput(MODEL_OUTPUT, 'float32', [-1, model.outputs]);
  }
  g.setMetadata(METADATA_ALGORITHM, `gbdt_${model.objective}`);
  if (options.featureNames) g.setMetadata(METADATA_FEATURE_NAMES, JSON.stringify(options.featureNames));
  for (const [key, value] of Object.entries(options.metadata ?? {})) g.setMetadata(key, value);
  return g.toBytes();
}

function ensembleAttributes(model: GbdtModel): Record<string, ReturnType<typeof attr.int>> {
  const nodes = { treeIds: [] as number[], nodeIds: [] as number[], featureIds: [] as number[], modes: [] as string[] };
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTrue: number[] = [];
  const targets = { treeIds: [] as number[], nodeIds: [] as number[], ids: [] as number[], weights: [] as number[] };
  model.trees.forEach((tree, t) => {
    for (let n = 0; n < tree.feature.length; n++) {
      const leaf = tree.feature[n] < 0;
      nodes.treeIds.push(t);
      nodes.nodeIds.push(n);
      nodes.featureIds.push(leaf ? 0 : tree.feature[n]);
      nodes.modes.push(leaf ? 'LEAF' : tree.categorical[n] ? 'BRANCH_EQ' : 'BRANCH_LEQ');
      values.push(leaf ? 0 : tree.threshold[n]);
      trueIds.push(leaf ? 0 : tree.left[n]);
      falseIds.push(leaf ? 0 : tree.right[n]);
      missingTrue.push(!leaf && tree.missingLeft[n] ? 1 : 0);
      if (leaf) {
        targets.treeIds.push(t);
        targets.nodeIds.push(n);
        targets.ids.push(t % model.outputs);
        targets.weights.push(tree.value[n]);
      }
    }
  });
  return {
    n_targets: attr.int(model.outputs),
    aggregate_function: attr.string('SUM'),
    post_transform: attr.string('NONE'),
    base_values: attr.floats(model.initScores),
    nodes_treeids: attr.ints(nodes.treeIds),
    nodes_nodeids: attr.ints(nodes.nodeIds),
    nodes_featureids: attr.ints(nodes.featureIds),
    nodes_modes: attr.strings(nodes.modes),
    nodes_values: attr.floats(values),
    nodes_truenodeids: attr.ints(trueIds),
    nodes_falsenodeids: attr.ints(falseIds),
    nodes_missing_value_tracks_true: attr.ints(missingTrue),
    target_treeids: attr.ints(targets.treeIds),
    target_nodeids: attr.ints(targets.nodeIds),
    target_ids: attr.ints(targets.ids),
    target_weights: attr.floats(targets.weights),
  };
}
