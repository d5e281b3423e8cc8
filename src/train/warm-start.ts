/**
 * An incremental update starts from an earlier logistic regression: its weights are read
 * back from its ONNX file (a Model's `model.onnx`, or a composed ServingModel's, where the
 * model's initializers carry the `model/` prefix) and matched to this training's columns by
 * feature name. A column the earlier model had keeps its weights; a column it did not have
 * (a category that entered the vocabulary with the new span) starts at 0; a column it had
 * that is gone is dropped. Out-of-vocabulary and hash buckets keep their names across
 * refits, so what the earlier model learned about unseen values carries over too.
 *
 * Usage: `const warm = await readWarmStart(join(artifact.path, 'model.onnx'), meta.featureNames, 1);`
 */
import { LoomError } from '../core/errors.js';
import { readModelFile } from '../onnx/inspect.js';
import { DataType, type TensorProto } from '../onnx/proto.js';
import { METADATA_ALGORITHM, METADATA_FEATURE_NAMES } from './export.js';
import type { WarmStart } from './logistic-regression.js';

export interface WarmStartModel extends WarmStart {
  /** How many of this training's columns had a weight in the earlier model. */
  matchedColumns: number;
}

export async function readWarmStart(modelPath: string, featureNames: string[], outputs: number): Promise<WarmStartModel> {
  const model = await readModelFile(modelPath);
  const metadata = new Map((model.metadata_props ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
  const fail = (why: string): never => {
    throw new LoomError('FAILED_PRECONDITION', `cannot update from ${modelPath}: ${why}`, {
      field: 'warmStartFrom',
      fix: 'update from a logistic regression trained by Loom (a Model or the ServingModel composed from it) with the same objective',
    });
  };
  if (!(metadata.get(METADATA_ALGORITHM) ?? '').startsWith('logistic_regression')) fail(`it is a ${metadata.get(METADATA_ALGORITHM) ?? 'model of unknown kind'}, not a logistic regression`);
  const previousNames = JSON.parse(metadata.get(METADATA_FEATURE_NAMES) ?? 'null') as string[] | null;
  if (!Array.isArray(previousNames)) fail('it does not record its feature names');
  const initializers = new Map((model.graph?.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor]));
  const weightsTensor = initializers.get('model/weights') ?? initializers.get('weights');
  const biasTensor = initializers.get('model/bias') ?? initializers.get('bias');
  if (!weightsTensor || !biasTensor) fail('it has no weights and bias initializers');
  const previousWeights = floats(weightsTensor as TensorProto);
  const bias = floats(biasTensor as TensorProto);
  if (bias.length !== outputs) fail(`it has ${bias.length} output(s), this training ${outputs}`);
  const names = previousNames as string[];
  if (previousWeights.length !== names.length * outputs) fail(`its ${previousWeights.length} weights do not match its ${names.length} feature names`);

  const rowOf = new Map(names.map((name, row) => [name, row]));
  const weights = new Float64Array(featureNames.length * outputs);
  let matchedColumns = 0;
  featureNames.forEach((name, row) => {
    const previous = rowOf.get(name);
    if (previous === undefined) return;
    matchedColumns++;
    for (let k = 0; k < outputs; k++) weights[row * outputs + k] = previousWeights[previous * outputs + k];
  });
  return { weights, bias: Float64Array.from(bias), matchedColumns };
}

/** A float32 initializer's values, from raw_data (little-endian) or float_data. */
function floats(tensor: TensorProto): Float32Array {
  if (tensor.data_type !== DataType.FLOAT) {
    throw new LoomError('FAILED_PRECONDITION', `initializer ${tensor.name} is not float32`);
  }
  if (tensor.raw_data && tensor.raw_data.length > 0) {
    const bytes = tensor.raw_data;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  return Float32Array.from(tensor.float_data ?? []);
}
