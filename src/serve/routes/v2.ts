/**
 * KServe Open Inference Protocol V2 over Fastify: health, model metadata, readiness and
 * inference, for the default version of a model (`/v2/models/:name/...`) or a given one
 * (`/v2/models/:name/versions/:version/...`). The infer route also takes the records form
 * (`{"instances": [{...raw features...}]}`), answering `{"predictions": [{"probability": p}]}`.
 *
 * Routes declare zod schemas; a small type provider gives handlers their types from those
 * schemas, and one error handler turns every failure into `{ error, error_code, field? }`
 * with the status from `HTTP_STATUS`.
 *
 * Usage: `await app.register(v2Routes, { models })`
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest, FastifyTypeProvider } from 'fastify';
import { z } from 'zod';
import { HTTP_STATUS, LoomError, isLoomError, type ErrorCode } from '../../core/errors.js';
import type { TensorSpec } from '../../registry/types.js';
import type { LoadedModel } from '../model-loader.js';
import { V2_DATATYPE, featuresFromInstances, featuresFromV2Inputs, predict, toRecords, type FeatureBatch } from '../predict.js';

/** The models a server holds; the routes only read it, so swapping models stays the server's business. */
export interface ServedModels {
  /** The model under `name` (its default version, or `version`); NOT_FOUND when this server does not hold it. */
  get(name: string, version?: number): LoadedModel;
  /** The versions of `name` this server holds, default first. */
  versions(name: string): number[];
  /** Whether every model the server was asked for is loaded. */
  isReady(): boolean;
}

export interface V2RoutesOptions {
  models: ServedModels;
  /** Largest request body in bytes; default 10 MiB. Larger bodies get 413. */
  bodyLimit?: number;
}

export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;

/** Handler types from zod schemas (the one schema library), in Fastify's type-provider form. */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

const NameParams = z.object({ name: z.string().min(1) });
const VersionParams = z.object({
  name: z.string().min(1),
  version: z.string().regex(/^\d+$/, 'a version is a whole number').transform(Number),
});
const V2InputSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().min(0)),
  datatype: z.string().min(1),
  parameters: z.record(z.string(), z.unknown()).optional(),
  data: z.array(z.unknown()),
});
const InferBody = z
  .object({
    id: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    inputs: z.array(V2InputSchema).optional(),
    outputs: z.array(z.object({ name: z.string().min(1), parameters: z.record(z.string(), z.unknown()).optional() })).optional(),
    instances: z.array(z.unknown()).optional(),
  })
  .refine((body) => (body.inputs === undefined) !== (body.instances === undefined), {
    message: 'send either "inputs" (V2 tensors) or "instances" (records), not both or neither',
  });
type InferRequest = z.output<typeof InferBody>;

/** The V2 datatype of a tensor type, as the protocol spells it. */
export function v2Datatype(type: TensorSpec['type']): string {
  return V2_DATATYPE[type];
}

/** The protocol surface. Encapsulated: its validator and error handler apply to these routes only. */
export const v2Routes: FastifyPluginAsync<V2RoutesOptions> = async (instance, options) => {
  const { models } = options;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  instance.setValidatorCompiler(zodValidatorCompiler);
  instance.setErrorHandler(replyWithError);
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.get('/v2', async () => ({ name: 'loom', version: '0.1.0', extensions: [] as string[] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => {
    const ready = models.isReady();
    return reply.code(ready ? 200 : 503).send({ ready });
  });

  app.get('/v2/models/:name', { schema: { params: NameParams } }, async (request) => metadata(models.get(request.params.name), models));
  app.get('/v2/models/:name/versions/:version', { schema: { params: VersionParams } }, async (request) =>
    metadata(models.get(request.params.name, request.params.version), models),
  );
  app.get('/v2/models/:name/ready', { schema: { params: NameParams } }, async (request) => {
    const model = models.get(request.params.name);
    return { name: model.name, version: String(model.version.version), ready: true };
  });
  app.get('/v2/models/:name/versions/:version/ready', { schema: { params: VersionParams } }, async (request) => {
    const model = models.get(request.params.name, request.params.version);
    return { name: model.name, version: String(model.version.version), ready: true };
  });

  // An unknown model is a 404 whatever the body says, so the model is found before the body is validated.
  const modelFirst = async (request: { params: unknown }) => {
    const params = request.params as { name: string; version?: string };
    models.get(params.name, params.version !== undefined && /^\d+$/.test(params.version) ? Number(params.version) : undefined);
  };
  app.post('/v2/models/:name/infer', { bodyLimit, preValidation: modelFirst, schema: { params: NameParams, body: InferBody } }, async (request) =>
    infer(models.get(request.params.name), request.body),
  );
  app.post('/v2/models/:name/versions/:version/infer', { bodyLimit, preValidation: modelFirst, schema: { params: VersionParams, body: InferBody } }, async (request) =>
    infer(models.get(request.params.name, request.params.version), request.body),
  );
};

function metadata(model: LoadedModel, models: ServedModels) {
  const describe = (spec: TensorSpec) => ({ name: spec.name, datatype: v2Datatype(spec.type), shape: spec.shape });
  return {
    name: model.name,
    versions: models.versions(model.name).map(String),
    platform: 'onnx',
    inputs: model.signature.inputs.map(describe),
    outputs: model.signature.outputs.map(describe),
  };
}

async function infer(model: LoadedModel, body: InferRequest) {
  const header = { model_name: model.name, model_version: String(model.version.version), ...(body.id !== undefined && { id: body.id }) };
  const requested = body.outputs?.map((output) => output.name);
  if (body.instances) {
    const batch: FeatureBatch = featuresFromInstances(body.instances, model.signature);
    const outputs = await predict(model, batch, requested);
    return { predictions: toRecords(outputs, batch.rowCount), ...header };
  }
  const batch = featuresFromV2Inputs(body.inputs ?? [], model.signature);
  const outputs = await predict(model, batch, requested);
  return {
    ...header,
    outputs: outputs.map((output) => ({ name: output.name, shape: output.shape, datatype: v2Datatype(output.type), data: output.data })),
  };
}

/** Validates one part of a request with its zod schema; failures become INVALID_ARGUMENT naming the field. */
export function zodValidatorCompiler({ schema, httpPart }: { schema: unknown; httpPart?: string }) {
  const zodSchema = schema as z.ZodType;
  return (data: unknown) => {
    const result = zodSchema.safeParse(data);
    if (result.success) return { value: result.data };
    const issue = result.error.issues[0];
    const field = fieldPath(issue?.path ?? [], httpPart === 'body' ? 'body' : httpPart ?? 'request');
    return { error: new LoomError('INVALID_ARGUMENT', `${field}: ${issue?.message ?? 'invalid'}`, { field }) };
  };
}

/** `['inputs', 0, 'shape']` → `inputs[0].shape`; the empty path is the whole part (`body`). */
function fieldPath(path: readonly PropertyKey[], whole: string): string {
  if (path.length === 0) return whole;
  return path
    .map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`))
    .join('');
}

/** The error body every Loom HTTP surface sends. */
export interface ErrorBody {
  error: string;
  error_code: ErrorCode;
  field?: string;
  /** What to do about it, when Loom knows. */
  fix?: string;
}

/** Status and body for anything thrown: LoomErrors by the HTTP_STATUS table, Fastify's own (bad JSON, too large) by theirs. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (isLoomError(error)) {
    const body: ErrorBody = { error: error.message, error_code: error.code };
    if (error.field) body.field = error.field;
    if (error.fix) body.fix = error.fix;
    return { status: HTTP_STATUS[error.code], body };
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return { status: 400, body: { error: 'the request body is not valid JSON', error_code: 'INVALID_ARGUMENT', field: 'body' } };
  }
  if (status === 413) {
    return { status, body: { error: 'the request body is larger than the server accepts; send fewer rows per request', error_code: 'RESOURCE_EXHAUSTED' } };
  }
  if (status >= 500) return { status, body: { error: fastifyError.message ?? 'internal error', error_code: 'INTERNAL' } };
  const code: ErrorCode = status === 404 ? 'NOT_FOUND' : status === 429 ? 'RESOURCE_EXHAUSTED' : 'INVALID_ARGUMENT';
  return { status, body: { error: fastifyError.message ?? 'bad request', error_code: code } };
}

/** The one error handler: logs server faults, sends the error body for everything. */
export function replyWithError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = errorResponse(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  return reply.code(status).send(body);
}
