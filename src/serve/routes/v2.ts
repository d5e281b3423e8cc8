/**
 * KServe Open Inference Protocol V2 over Fastify: server metadata and health, model
 * metadata, readiness and inference, for a model's routed version (`/v2/models/:name/...`,
 * where a canary may answer) or a given one (`/v2/models/:name/versions/:version/...`).
 * The infer route also takes the records form (`{"instances": [{...raw features...}]}`),
 * answering `{"predictions": [{"probability": p}]}`. The envelope is checked by hand
 * (every problem collected), the features by the model's compiled signature.
 *
 * Usage: `await app.register(v2Routes, { ctx, isReady })`
 */
import { performance } from 'node:perf_hooks';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { LoomError } from '../../core/errors.js';
import { Problems, fromRecords, fromV2Inputs, type V2Input } from '../features.js';
import { logFailure, routeRequest, toRecords, type InferenceContext } from '../inference.js';
import type { LoadedModel } from '../model-loader.js';
import { V2_SERVER, runV2, v2ModelMetadata } from '../v2-answers.js';
import { boundedJsonParser } from '../../http/json-body.js';
import { requestIdOf, versionParam } from './request-parts.js';
import { v2InferRequest, v2InferResponse, v2ModelMetadata as v2ModelMetadataSchema } from './protocol-schemas.js';
import { BINARY_HEADER, binaryOutputChoice, decodeBinaryInputs, encodeBinaryOutputs, headerLength } from './v2-binary.js';

/** The content type the binary header stands for on these routes (Loom's own name, never sent). */
const BINARY_CONTENT_TYPE = 'application/x-loom-v2-binary';

/** A read-only view of what a server holds, for route plugins outside the inference path (browser page). */
export interface ServedModels {
  /** The model under `name` (its routed primary, or `version`); NOT_FOUND when this server does not hold it. Follows swaps. */
  get(name: string, version?: number): LoadedModel;
  /** The versions of `name` this server holds, primary first. */
  versions(name: string): number[];
  /** Whether the server has a model to serve. */
  isReady(): boolean;
}

/** The `ServedModels` view of a server's pool. */
export function servedModelsOf(pool: InferenceContext['pool']): ServedModels {
  return {
    get: (name, version) => (version === undefined ? pool.route(name).model : pool.route(name, version).model),
    versions: (name) => pool.versions(name),
    isReady: () => pool.names().length > 0,
  };
}

export interface V2RoutesOptions {
  ctx: InferenceContext;
  /** How deep a request's JSON may nest (the server's limit; binary requests parse their JSON part here). */
  jsonDepth: number;
  /** Whether every model the server was asked for is loaded. */
  isReady(): boolean;
}

type NameParams = { name: string; version?: string };

export const v2Routes: FastifyPluginAsync<V2RoutesOptions> = async (app, options) => {
  const { ctx } = options;
  const pool = ctx.pool;
  // The V2 protocol does not require a Content-Type, and tritonclient.http sends none: a
  // body without one is JSON (on these routes only; the other protocols keep theirs). A body
  // with Triton's binary header is JSON then tensors, whatever type the client names.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.headers[BINARY_HEADER] !== undefined) request.headers['content-type'] = BINARY_CONTENT_TYPE;
    else if (request.headers['content-type'] === undefined && (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined)) {
      request.headers['content-type'] = 'application/json';
    }
    done();
  });
  const parseJson = boundedJsonParser(app, options.jsonDepth);
  app.addContentTypeParser(BINARY_CONTENT_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    const buffer = body as Buffer;
    try {
      const length = headerLength(request.headers[BINARY_HEADER], buffer.length);
      parseJson(request, buffer.toString('utf8', 0, length), (error, header) => {
        if (error) return done(error, undefined);
        try {
          done(null, decodeBinaryInputs(header, buffer.subarray(length)));
        } catch (failure) {
          done(failure as Error, undefined);
        }
      });
    } catch (failure) {
      done(failure as Error, undefined);
    }
  });

  const tags = ['kserve-v2'];
  app.get('/v2', { schema: { summary: 'Server metadata', tags } }, async () => ({ ...V2_SERVER, extensions: ['binary_tensor_data'] }));
  app.get('/v2/health/live', { schema: { summary: 'Liveness (no credentials needed)', tags } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { schema: { summary: 'Readiness: 503 until every model asked for is loaded (no credentials needed)', tags } }, async (_request, reply) => {
    const ready = options.isReady();
    return reply.code(ready ? 200 : 503).send({ ready });
  });

  const metadata = (model: LoadedModel) => ({
    ...v2ModelMetadata(pool, model),
    // Loom's own status: what each served reference points at and any swap that failed.
    parameters: { loom_status: pool.status(model.name) },
  });
  const ready = (model: LoadedModel) => ({ name: model.name, version: String(model.version.version), ready: true });
  const modelOf = (params: NameParams) => pool.route(params.name, versionParam(params.version)).model;

  const described = { tags, documented: { response: v2ModelMetadataSchema } };
  app.get<{ Params: NameParams }>('/v2/models/:name', { schema: { summary: "Model metadata: the routed version's signature", ...described } }, async (request) => metadata(modelOf(request.params)));
  app.get<{ Params: NameParams }>('/v2/models/:name/versions/:version', { schema: { summary: "A version's metadata", ...described } }, async (request) => metadata(modelOf(request.params)));
  app.get<{ Params: NameParams }>('/v2/models/:name/ready', { schema: { summary: 'Whether the model is ready', tags } }, async (request) => ready(modelOf(request.params)));
  app.get<{ Params: NameParams }>('/v2/models/:name/versions/:version/ready', { schema: { summary: 'Whether a version is ready', tags } }, async (request) => ready(modelOf(request.params)));

  const infer = async (request: FastifyRequest<{ Params: NameParams }>, reply: FastifyReply) => {
    const started = performance.now();
    const { principal, params, body } = request;
    const version = versionParam(params.version);
    // The body's id is read (not yet checked) before routing: the canary split hashes it.
    const bodyId = body !== null && typeof body === 'object' ? (body as { id?: unknown }).id : undefined;
    const requestId = requestIdOf(request, reply, bodyId);
    // Routed before the body is checked, so an unknown model is a 404 whatever the body says.
    const route = routeRequest(ctx, principal, params.name, version, undefined, requestId);
    try {
      const { id, instances, inputs, outputs: names } = checkEnvelope(body);
      const compiled = route.model.compiled;
      const rows = instances !== undefined ? fromRecords(instances, compiled, 'instances') : fromV2Inputs(inputs!, compiled);
      const answer = await runV2(ctx, route, rows, 'v2', requestId, started, names);
      const tensors = answer.outputs;
      const modelName = answer.model.name;
      const modelVersion = String(answer.model.version.version);
      if (instances !== undefined) {
        const predictions = toRecords(tensors, rows.rowCount);
        return { predictions, model_name: modelName, model_version: modelVersion, id: id ?? requestId };
      }
      // The id is the body's when it sent one (the protocol echoes it), else the request's: a client can always quote it (feedback).
      const head = { model_name: modelName, model_version: modelVersion, id: id ?? requestId };
      const binary = encodeBinaryOutputs(head, tensors, binaryOutputChoice(body));
      if (!binary) return { ...head, outputs: tensors };
      return reply.header(BINARY_HEADER, binary.headerLength).type('application/octet-stream').send(binary.body);
    } catch (error) {
      throw logFailure(ctx, route, requestId, 'v2', started, error);
    }
  };
  const inference = {
    tags,
    description: 'No Content-Type is needed for JSON. Triton\'s binary tensor extension: send `Inference-Header-Content-Length` with the JSON header length, tensors after it.',
    documented: { body: v2InferRequest, bodyTypes: ['application/octet-stream'], response: v2InferResponse },
  };
  app.post<{ Params: NameParams }>('/v2/models/:name/infer', { schema: { summary: 'Inference on the routed version (a canary may answer)', ...inference } }, infer);
  app.post<{ Params: NameParams }>('/v2/models/:name/versions/:version/infer', { schema: { summary: 'Inference on a given version', ...inference } }, infer);
};

interface Envelope {
  id?: string;
  inputs?: V2Input[];
  instances?: unknown;
  outputs?: string[];
}

/** The V2 request envelope, every problem collected: `inputs` (tensors) or `instances` (records), `id`, `outputs`. */
function checkEnvelope(body: unknown): Envelope {
  const problems = new Problems();
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new LoomError('INVALID_ARGUMENT', 'body must be a JSON object with "inputs" or "instances"', { field: 'body' });
  }
  const { id, inputs, instances, outputs } = body as Record<string, unknown>;
  if ((inputs === undefined) === (instances === undefined)) {
    throw new LoomError('INVALID_ARGUMENT', 'body: send either "inputs" (V2 tensors) or "instances" (records), not both or neither', { field: 'body' });
  }
  if (id !== undefined && typeof id !== 'string') problems.add('id', 'id must be a string');
  if (inputs !== undefined) {
    if (!Array.isArray(inputs)) problems.add('inputs', 'inputs must be an array of tensors {name, shape, datatype, data}');
    else {
      inputs.forEach((input: unknown, i) => {
        const field = `inputs[${i}]`;
        const tensor = input as Partial<V2Input> | null;
        if (tensor === null || typeof tensor !== 'object') return problems.add(field, `${field} must be an object {name, shape, datatype, data}`);
        if (typeof tensor.name !== 'string' || !tensor.name) problems.add(`${field}.name`, `${field}.name must be a non-empty string`);
        if (!Array.isArray(tensor.shape) || !tensor.shape.every((dim) => Number.isInteger(dim) && dim >= 0)) problems.add(`${field}.shape`, `${field}.shape must be an array of non-negative integers`);
        if (typeof tensor.datatype !== 'string') problems.add(`${field}.datatype`, `${field}.datatype must be a string such as FP32, INT64 or BYTES`);
        if (!Array.isArray(tensor.data)) problems.add(`${field}.data`, `${field}.data must be an array`);
      });
    }
  }
  let names: string[] | undefined;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) problems.add('outputs', 'outputs must be an array of {name}');
    else {
      names = outputs.map((output: unknown, i) => {
        const name = (output as { name?: unknown } | null)?.name;
        if (typeof name !== 'string') problems.add(`outputs[${i}].name`, `outputs[${i}].name must be a string`);
        return String(name);
      });
    }
  }
  problems.throwIfAny();
  return { id: id as string | undefined, inputs: inputs as V2Input[] | undefined, instances, outputs: names };
}
