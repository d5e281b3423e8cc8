/**
 * Tensor signatures: what a model graph takes and gives, by name, element type and shape.
 * They describe ONNX graphs, so they live with the graph code; the registry records a
 * version's signature and serving checks requests against it, both through these types.
 *
 * Usage: `const signature: ModelSignature = readSignature(model);` (see `inspect.ts`).
 */

/** The element types Loom's graphs use, as ONNX Runtime names them in JavaScript. */
export type TensorType = 'float32' | 'float64' | 'int64' | 'int32' | 'string' | 'bool';

/** One input or output of a model: its name, element type and shape (-1 for any size). */
export interface TensorSpec {
  name: string;
  type: TensorType;
  shape: number[];
}

/** A model's inputs and outputs. */
export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}
