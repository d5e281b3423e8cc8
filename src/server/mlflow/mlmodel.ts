/**
 * What Loom reads of an MLflow model's `MLmodel` file (YAML): its flavours and its
 * signature, and the serving signature of an ONNX-flavoured model. A pure core: text and
 * plain values in, values out; `model-import.ts` adapts files to it.
 *
 * Usage: `const mlmodel = parseMlmodel(text); const signature = onnxServingSignature(mlmodel, readSignature(bytes));`
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type { ModelSignature, TensorSpec } from '../../onnx/signature.js';

/** The file every MLflow model directory holds. */
export const MLMODEL_FILE = 'MLmodel';

const mlmodelSchema = z.object({
  flavors: z.record(z.string(), z.record(z.string(), z.unknown()).nullable()),
  signature: z.object({ inputs: z.string().nullish(), outputs: z.string().nullish() }).nullish(),
  model_id: z.string().nullish(),
  run_id: z.string().nullish(),
});

export type Mlmodel = z.infer<typeof mlmodelSchema>;

/** One entry of an MLflow signature's JSON: a tensor (`tensor-spec`) or a DataFrame column (`type`). */
const specSchema = z.object({
  name: z.string().optional(),
  type: z.string(),
  'tensor-spec': z.object({ dtype: z.string(), shape: z.array(z.number().int()) }).optional(),
});

/** numpy dtype names (as MLflow writes them) for Loom's tensor types. */
const DTYPES: Record<string, TensorSpec['type']> = {
  float32: 'float32',
  float64: 'float64',
  double: 'float64',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
  str: 'string',
  object: 'string',
};

function invalid(message: string, fix: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', message, { field: 'source', fix });
}

/** Parses an `MLmodel` file; INVALID_ARGUMENT when it is not YAML or names no flavours. */
export function parseMlmodel(text: string): Mlmodel {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw invalid(`the model's MLmodel file is not YAML: ${(error as Error).message}`, 'log the model again with mlflow.<flavor>.log_model');
  }
  // The error is about the registered source; the MLmodel field goes into the message.
  return parseInput(mlmodelSchema, value, { what: "the model's MLmodel file", fix: 'log the model again with mlflow.<flavor>.log_model', field: () => 'source' });
}

/** The ONNX file's path inside the model directory, or undefined when the model has no `onnx` flavour. */
export function onnxModelFile(mlmodel: Mlmodel): string | undefined {
  const onnx = mlmodel.flavors.onnx;
  if (!onnx) return undefined;
  const data = onnx.data;
  if (typeof data !== 'string' || data === '' || data.split('/').includes('..')) {
    throw invalid('the onnx flavour of the model names no model file (data)', 'log the model with mlflow.onnx.log_model');
  }
  return data;
}

/**
 * The signature `loom serve` checks requests against for an ONNX-flavoured model. Inputs
 * come from the MLflow signature when it is tensor-based (`mlflow.onnx.log_model(...,
 * signature=infer_signature(X, ...))`): it names the graph's inputs and may say more about
 * their shapes. A column-based signature describes a DataFrame the ONNX pyfunc turns into
 * tensors, which Loom's server does not do, so then (and with no signature) the graph's own
 * inputs are served. Outputs are always the graph's: serving answers what the graph computes.
 */
export function onnxServingSignature(mlmodel: Mlmodel, graph: ModelSignature): ModelSignature {
  const text = mlmodel.signature?.inputs;
  if (!text) return graph;
  let specs: z.infer<typeof specSchema>[];
  try {
    specs = z.array(specSchema).parse(JSON.parse(text));
  } catch (error) {
    throw invalid(`the model's signature inputs are not an MLflow signature: ${(error as Error).message}`, 'log the model with a signature from mlflow.models.infer_signature');
  }
  if (specs.length === 0 || specs.some((s) => s['tensor-spec'] === undefined)) return graph;
  const byName = new Map(graph.inputs.map((input) => [input.name, input]));
  const inputs = specs.map((spec, i): TensorSpec => {
    const tensor = spec['tensor-spec']!;
    // An unnamed tensor signature describes the graph's only input.
    const name = spec.name ?? (specs.length === 1 && graph.inputs.length === 1 ? graph.inputs[0]!.name : undefined);
    const input = name === undefined ? undefined : byName.get(name);
    if (!input) {
      throw invalid(`signature input ${i} (${JSON.stringify(spec.name ?? '')}) is not an input of the ONNX graph, which takes ${graph.inputs.map((g) => g.name).join(', ')}`, 'log the model with a signature inferred from the data the graph takes');
    }
    const type = DTYPES[tensor.dtype];
    if (type !== input.type) {
      throw invalid(`signature input ${JSON.stringify(input.name)} is ${tensor.dtype} but the ONNX graph takes ${input.type}`, 'log the model with a signature inferred from the data the graph takes');
    }
    return { name: input.name, type, shape: tensor.shape };
  });
  const missing = graph.inputs.filter((g) => !inputs.some((i) => i.name === g.name));
  if (missing.length > 0) throw invalid(`the signature leaves out graph inputs ${missing.map((m) => m.name).join(', ')}`, 'log the model with a signature naming every graph input');
  return { inputs, outputs: graph.outputs };
}
