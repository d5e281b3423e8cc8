/**
 * The prediction core both request forms share: check request columns against the
 * model's signature, build tensors (through `onnx/tensors.ts`, the one converter), run
 * the session, and hand back plain outputs. Every mistake in a request is a LoomError
 * INVALID_ARGUMENT whose `field` names the place as the client wrote it
 * (`instances[2].distance`, `inputs[origin].datatype`).
 *
 * Usage: `const result = await predict(model, featuresFromInstances(body.instances, model.signature));`
 */
import type { Tensor } from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { toTensor } from '../onnx/tensors.js';
import type { ModelSignature, TensorSpec } from '../registry/types.js';
import type { LoadedModel } from './model-loader.js';

/** KServe V2 datatype names for Loom's tensor types. */
export const V2_DATATYPE: Record<TensorSpec['type'], string> = {
  float32: 'FP32',
  float64: 'FP64',
  int64: 'INT64',
  int32: 'INT32',
  string: 'BYTES',
  bool: 'BOOL',
};

/** Validated input tensors, ready to run. */
export interface FeatureBatch {
  rowCount: number;
  tensors: Record<string, Tensor>;
}

/** One V2 request input, as parsed from JSON. */
export interface V2Input {
  name: string;
  shape: number[];
  datatype: string;
  /** Row-major, flat or nested. */
  data: unknown[];
}

export type OutputData = number[] | string[] | boolean[];
export interface PredictionOutput {
  name: string;
  type: TensorSpec['type'];
  shape: number[];
  data: OutputData;
}

/** The records form: one object of raw features per row; each must have every feature and nothing else. */
export function featuresFromInstances(instances: readonly unknown[], signature: ModelSignature): FeatureBatch {
  if (instances.length === 0) throw invalid('instances is empty; send at least one row', 'instances');
  const known = new Set(signature.inputs.map((input) => input.name));
  const columns = new Map<string, unknown[]>(signature.inputs.map((input) => [input.name, new Array<unknown>(instances.length)]));
  instances.forEach((instance, row) => {
    if (instance === null || typeof instance !== 'object' || Array.isArray(instance)) {
      throw invalid(`instances[${row}] must be an object of feature values`, `instances[${row}]`);
    }
    const record = instance as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!known.has(key)) {
        throw invalid(`instances[${row}].${key} is not a feature of this model (features: ${[...known].join(', ')})`, `instances[${row}].${key}`);
      }
    }
    for (const input of signature.inputs) {
      // Absent is a client mistake; null is an explicit missing value the transform handles.
      if (!Object.hasOwn(record, input.name)) {
        throw invalid(`instances[${row}].${input.name} is missing`, `instances[${row}].${input.name}`);
      }
      columns.get(input.name)![row] = record[input.name];
    }
  });
  const tensors: Record<string, Tensor> = {};
  for (const input of signature.inputs) {
    tensors[input.name] = toTensor(input, columns.get(input.name)!, { fieldName: (row) => `instances[${row}].${input.name}` });
  }
  return { rowCount: instances.length, tensors };
}

/** The V2 tensor form: one input per model input, with a datatype and shape that must agree with the signature. */
export function featuresFromV2Inputs(inputs: readonly V2Input[], signature: ModelSignature): FeatureBatch {
  const specs = new Map(signature.inputs.map((spec) => [spec.name, spec]));
  const given = new Map<string, V2Input>();
  for (const input of inputs) {
    const field = `inputs[${input.name}]`;
    if (!specs.has(input.name)) {
      throw invalid(`${field} is not an input of this model (inputs: ${[...specs.keys()].join(', ')})`, field);
    }
    if (given.has(input.name)) throw invalid(`${field} is given twice`, field);
    given.set(input.name, input);
  }
  let rowCount: number | undefined;
  const tensors: Record<string, Tensor> = {};
  for (const spec of signature.inputs) {
    const field = `inputs[${spec.name}]`;
    const input = given.get(spec.name);
    if (!input) throw invalid(`${field} is missing`, field);
    const expectedType = V2_DATATYPE[spec.type];
    if (input.datatype !== expectedType) {
      throw invalid(`${field}.datatype must be ${expectedType}, got ${input.datatype}`, `${field}.datatype`);
    }
    const data = input.data.flat(Infinity);
    const count = input.shape.reduce((product, dim) => product * dim, 1);
    if (count !== data.length) {
      throw invalid(`${field}.data has ${data.length} values but shape [${input.shape.join(', ')}] needs ${count}`, `${field}.data`);
    }
    const rows = input.shape[0] ?? 1;
    const perRow = spec.shape.slice(1).reduce((product, dim) => product * Math.max(dim, 1), 1);
    // [N] and [N, 1] both mean one value per row for a [-1, 1] input, as clients send either.
    if (count !== rows * perRow) {
      throw invalid(`${field}.shape [${input.shape.join(', ')}] does not fit the model's [${spec.shape.join(', ')}] (-1 is the batch)`, `${field}.shape`);
    }
    if (rowCount !== undefined && rows !== rowCount) {
      throw invalid(`${field}.shape has ${rows} rows but an earlier input has ${rowCount}; every input needs the same batch size`, `${field}.shape`);
    }
    rowCount = rows;
    tensors[spec.name] = toTensor(spec, data, { fieldName: (row) => `${field}.data[${row}]` });
  }
  if (!rowCount) throw invalid('inputs hold no rows', 'inputs');
  return { rowCount, tensors };
}

/** Runs the model; `outputNames` picks outputs (default: all of them, in signature order). */
export async function predict(model: LoadedModel, batch: FeatureBatch, outputNames?: readonly string[]): Promise<PredictionOutput[]> {
  const specs = new Map(model.signature.outputs.map((spec) => [spec.name, spec]));
  const names = outputNames && outputNames.length > 0 ? [...outputNames] : [...specs.keys()];
  names.forEach((name, index) => {
    if (!specs.has(name)) {
      throw invalid(`outputs[${index}] "${name}" is not an output of this model (outputs: ${[...specs.keys()].join(', ')})`, `outputs[${index}].name`);
    }
  });
  const results = await model.session.run(batch.tensors, names);
  return names.map((name) => {
    const tensor = results[name];
    const type = specs.get(name)!.type;
    return { name, type, shape: [...tensor.dims], data: toJsonData(tensor.data, type) };
  });
}

/**
 * The records-form answer: one object per row, each output under its name; an output
 * with one value per row (the usual `[N, 1]` probability) is a number, wider ones arrays.
 */
export function toRecords(outputs: readonly PredictionOutput[], rowCount: number): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = Array.from({ length: rowCount }, () => ({}));
  for (const output of outputs) {
    const perRow = rowCount > 0 ? output.data.length / rowCount : 0;
    for (let row = 0; row < rowCount; row++) {
      records[row][output.name] = perRow === 1 ? output.data[row] : output.data.slice(row * perRow, (row + 1) * perRow);
    }
  }
  return records;
}

/** Tensor data as JSON values: int64 as numbers (exact up to 2^53, beyond any label or class id). */
function toJsonData(data: Tensor['data'], type: TensorSpec['type']): OutputData {
  if (Array.isArray(data)) return data as string[];
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  // ONNX Runtime holds bool tensors as one byte per element.
  if (type === 'bool') return Array.from(data as Uint8Array, (value) => value !== 0);
  return Array.from(data as ArrayLike<number>);
}

function invalid(message: string, field: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', message, { field });
}
