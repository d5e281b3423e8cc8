/**
 * A gRPC `ModelInferRequest`'s tensors as the V2 inputs every transport hands to
 * `fromV2Inputs`, and a V2 answer as a `ModelInferResponse`. Values come either typed
 * (`contents`, the field matching the datatype) or raw (`raw_input_contents`, one entry per
 * input, in Triton's binary layout, decoded by the same code as the HTTP binary extension);
 * answers are always raw, as Triton answers and as its client reads fastest. Every problem
 * in the envelope is collected into one INVALID_ARGUMENT.
 *
 * Usage: `const inputs = v2InputsOf(request); ... callback(null, inferResponseOf(answer, id))`
 */
import { LoomError } from '../../core/errors.js';
import { Problems, type V2Input } from '../features.js';
import { decodeTensor, encodeTensor } from '../routes/v2-binary.js';
import type { V2Answer } from '../v2-answers.js';

/** `InferTensorContents` as @grpc/proto-loader decodes it (64-bit integers as decimal strings, bytes as Buffers). */
export interface TensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: string[];
  uint_contents: number[];
  uint64_contents: string[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

/** A decoded `ModelInferRequest` (fields in the .proto's spelling). */
export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  inputs: { name: string; datatype: string; shape: string[]; contents: TensorContents | null }[];
  outputs: { name: string }[];
  raw_input_contents: Buffer[];
}

/** A `ModelInferResponse` ready for @grpc/proto-loader to encode. */
export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[] }[];
  raw_output_contents: Buffer[];
}

/** Which `contents` field holds each datatype's values (the protocol's table). */
const CONTENTS_FIELD: Record<string, keyof TensorContents> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const hasValues = (contents: TensorContents | null): contents is TensorContents => contents !== null && Object.values(contents).some((values) => Array.isArray(values) && values.length > 0);

/**
 * The request's inputs as V2 inputs: names, datatypes and shapes checked (every problem
 * collected), values from `raw_input_contents` or from each input's `contents`. What the
 * model expects (datatype, shape, values) is left to `fromV2Inputs`.
 */
export function v2InputsOf(request: ModelInferRequest): V2Input[] {
  const problems = new Problems();
  const raw = request.raw_input_contents;
  if (request.inputs.length === 0) problems.add('inputs', 'inputs is empty; send one tensor per model input');
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    problems.add('raw_input_contents', `raw_input_contents has ${raw.length} entries but there are ${request.inputs.length} inputs; send one per input, in the order of inputs`);
  }
  const shapes = request.inputs.map((input, i) => {
    const field = `inputs[${i}]`;
    if (!input.name) problems.add(`${field}.name`, `${field}.name must be a non-empty string`);
    if (!input.datatype) problems.add(`${field}.datatype`, `${field}.datatype must be set, such as FP32, INT64 or BYTES`);
    if (raw.length > 0 && hasValues(input.contents)) problems.add(`${field}.contents`, `${field}.contents must not be set when the request uses raw_input_contents`);
    const shape = input.shape.map(Number);
    if (!shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) problems.add(`${field}.shape`, `${field}.shape must hold non-negative whole numbers, got [${input.shape.join(', ')}]`);
    return shape;
  });
  problems.throwIfAny();
  return request.inputs.map((input, i) => ({
    name: input.name,
    datatype: input.datatype,
    shape: shapes[i]!,
    data: raw.length > 0 ? decodeTensor(input.datatype, raw[i]!, `raw_input_contents[${i}] (${input.name})`) : typedValues(input.datatype, input.contents, `inputs[${i}].contents`),
  }));
}

/** The values of a typed `contents`; those of a datatype Loom's models never take come back empty, for `fromV2Inputs` to refuse by datatype. */
function typedValues(datatype: string, contents: TensorContents | null, field: string): unknown[] {
  const key = CONTENTS_FIELD[datatype];
  if (key === undefined || contents === null) return [];
  const values = contents[key];
  if (key === 'bytes_contents') return (values as Buffer[]).map((bytes) => bytes.toString('utf8'));
  if (key === 'int64_contents' || key === 'uint64_contents') {
    return (values as string[]).map((text, i) => {
      const value = Number(text);
      if (!Number.isSafeInteger(value)) {
        throw new LoomError('INVALID_ARGUMENT', `${field}.${key}[${i}] is ${text}, beyond what Loom's models take exactly (±2^53)`, { field: `${field}.${key}[${i}]` });
      }
      return value;
    });
  }
  return values;
}

/** The answer as a `ModelInferResponse`: outputs described, their values raw, in the same order. */
export function inferResponseOf(answer: V2Answer, id: string): ModelInferResponse {
  return {
    model_name: answer.model.name,
    model_version: String(answer.model.version.version),
    id,
    outputs: answer.outputs.map((output) => ({ name: output.name, datatype: output.datatype, shape: output.shape })),
    raw_output_contents: answer.outputs.map(encodeTensor),
  };
}
