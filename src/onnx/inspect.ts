/**
 * What a model file says about itself: its inputs and outputs as a `ModelSignature`
 * (what serving validates requests against and the registry records) and its
 * `metadata_props` (where Loom keeps the fitted transform and the label column).
 *
 * Usage: `const signature = readSignature(await readFile('model.onnx'));`
 */
import { readFile } from 'node:fs/promises';
import { LoomError } from '../core/errors.js';
import type { ModelSignature, TensorSpec } from './signature.js';
import { ELEMENT_TYPES } from './builder.js';
import { asModelProto, decodeModel, type ModelProto, type ValueInfoProto } from './proto.js';

const SPEC_TYPE_OF = new Map<number, TensorSpec['type']>(
  Object.entries(ELEMENT_TYPES).map(([type, elemType]) => [elemType, type as TensorSpec['type']]),
);

/** Reads and decodes a `.onnx` file. */
export async function readModelFile(path: string): Promise<ModelProto> {
  return decodeModel(await readFile(path));
}

/** The graph's inputs (initializers excluded) and outputs; symbolic dimensions are -1. */
export function readSignature(model: ModelProto | Uint8Array): ModelSignature {
  const graph = asModelProto(model).graph ?? {};
  // Before IR 4, initializers were also listed as inputs; they are not something a caller feeds.
  const constants = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  return {
    inputs: (graph.input ?? []).filter((input) => !constants.has(input.name)).map(toTensorSpec),
    outputs: (graph.output ?? []).map(toTensorSpec),
  };
}

/** `metadata_props` as a plain object. */
export function readMetadata(model: ModelProto | Uint8Array): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const entry of asModelProto(model).metadata_props ?? []) {
    if (entry.key !== undefined) metadata[entry.key] = entry.value ?? '';
  }
  return metadata;
}

function toTensorSpec(value: ValueInfoProto): TensorSpec {
  const name = value.name ?? '';
  const tensorType = value.type?.tensor_type;
  const type = tensorType?.elem_type === undefined ? undefined : SPEC_TYPE_OF.get(tensorType.elem_type);
  if (!tensorType || !type) {
    throw new LoomError('INVALID_ARGUMENT', `model value "${name}" is not a tensor of a type Loom serves`, {
      fix: 'export the model with float, double, int32, int64, string or bool tensors (no maps or sequences, no ZipMap)',
    });
  }
  const shape = (tensorType.shape?.dim ?? []).map((dim) => (dim.dim_value !== undefined && dim.dim_param === undefined ? dim.dim_value : -1));
  return { name, type, shape };
}
