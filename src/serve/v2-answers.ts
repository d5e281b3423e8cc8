/**
 * What a KServe V2 answer holds, whichever transport carries it (JSON over HTTP in
 * `routes/v2.ts`, protobuf over gRPC in `grpc/`): the server's name and version, a model's
 * metadata, and an inference whose outputs come back as V2 tensors. Each transport only
 * reads its request and writes these in its own encoding.
 *
 * Usage: `const answer = await runV2(ctx, route, rows, 'v2', requestId, started, ['probability'])`
 */
import type { TensorSpec } from '../registry/types.js';
import { V2_DATATYPE, type FeatureRows } from './features.js';
import { pickOutputs, runRouted, type InferenceContext } from './inference.js';
import type { LoadedModel } from './model-loader.js';
import type { ModelPool, Route } from './model-pool.js';
import type { AnswerTensor } from './routes/v2-binary.js';

/** The server's name and version in V2 server metadata. */
export const V2_SERVER = { name: 'loom', version: '0.1.0' } as const;

/** One tensor of a model's V2 metadata. */
export interface V2TensorMetadata {
  name: string;
  datatype: string;
  /** -1 marks the batch (or any variable) dimension. */
  shape: number[];
}

/** A model's V2 metadata: the versions this server holds and its signature as V2 tensors. */
export interface V2ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: V2TensorMetadata[];
  outputs: V2TensorMetadata[];
}

const describe = (spec: TensorSpec): V2TensorMetadata => ({ name: spec.name, datatype: V2_DATATYPE[spec.type], shape: spec.shape });

/** The V2 metadata of `model` (a version the pool routed to). */
export function v2ModelMetadata(pool: ModelPool, model: LoadedModel): V2ModelMetadata {
  return {
    name: model.name,
    versions: pool.versions(model.name).map(String),
    platform: 'onnx',
    inputs: model.signature.inputs.map(describe),
    outputs: model.signature.outputs.map(describe),
  };
}

/** A V2 inference's answer: the version that answered, the request's id and the outputs asked for. */
export interface V2Answer {
  model: LoadedModel;
  requestId: string;
  outputs: AnswerTensor[];
}

/**
 * Runs rows already routed and parsed (`runRouted`: timed, logged under `protocol`, shadowed)
 * and answers with the outputs named in `outputNames` (all when none), in that order, as V2
 * tensors; INVALID_ARGUMENT naming each unknown output.
 */
export async function runV2(ctx: InferenceContext, route: Route, rows: FeatureRows, protocol: string, requestId: string | undefined, started: number, outputNames: readonly string[] | undefined): Promise<V2Answer> {
  // Checked before the run too, so a request naming an unknown output is neither run nor logged.
  pickOutputs(route.model.signature.outputs, outputNames, 'outputs');
  const answer = await runRouted(ctx, route, rows, protocol, requestId, started);
  const picked = pickOutputs(answer.outputs, outputNames, 'outputs');
  const outputs: AnswerTensor[] = new Array(picked.length);
  for (let i = 0; i < picked.length; i++) {
    const output = picked[i]!;
    outputs[i] = { name: output.name, shape: output.shape, datatype: V2_DATATYPE[output.type], data: output.data };
  }
  return { model: answer.model, requestId: answer.requestId, outputs };
}
