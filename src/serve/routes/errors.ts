/**
 * How the model server answers a failure, on every protocol: the status from the one
 * `HTTP_STATUS` table for LoomErrors, Fastify's own status for its errors (bad JSON,
 * body too large), and a body naming the code, the field and, for a request with several
 * mistakes, every one of them (`problems`).
 *
 * Usage: `app.setErrorHandler(serveErrorHandler(metrics))`
 */
import type { FastifyError, FastifyReply, FastifyRequest, FastifyTypeProvider } from 'fastify';
import type { z } from 'zod';
import { HTTP_STATUS, LoomError, isLoomError, type ErrorCode } from '../../core/errors.js';
import type { FieldProblem } from '../features.js';
import type { ServingMetrics } from '../metrics.js';

/** The error body the model server sends (TF Serving and KServe clients read `error`). */
export interface ErrorBody {
  error: string;
  error_code: ErrorCode;
  field?: string;
  /** What to do about it, when Loom knows. */
  fix?: string;
  /** Every bad field, when there are several. */
  problems?: FieldProblem[];
}

/** Handler types from zod schemas (the one schema library), in Fastify's type-provider form. */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

/** Status and body for anything thrown. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (isLoomError(error)) {
    const body: ErrorBody = { error: error.message, error_code: error.code };
    if (error.field) body.field = error.field;
    if (error.fix) body.fix = error.fix;
    const problems = (error as LoomError & { problems?: FieldProblem[] }).problems;
    if (problems && problems.length > 0) body.problems = problems;
    return { status: HTTP_STATUS[error.code], body };
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fastifyError.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError) {
    return { status: 400, body: { error: 'the request body is not valid JSON', error_code: 'INVALID_ARGUMENT', field: 'body' } };
  }
  if (status === 413) {
    return { status, body: { error: 'the request body is larger than the server accepts; send fewer rows per request', error_code: 'RESOURCE_EXHAUSTED' } };
  }
  if (status === 415) {
    return { status, body: { error: `unsupported content type: ${fastifyError.message ?? ''}; send application/json (or text/csv to /invocations)`, error_code: 'INVALID_ARGUMENT', field: 'content-type' } };
  }
  if (status >= 500) return { status, body: { error: fastifyError.message ?? 'internal error', error_code: 'INTERNAL' } };
  const code: ErrorCode = status === 404 ? 'NOT_FOUND' : status === 429 ? 'RESOURCE_EXHAUSTED' : 'INVALID_ARGUMENT';
  return { status, body: { error: fastifyError.message ?? 'bad request', error_code: code } };
}

/** The one error handler: counts the failure per model, logs server faults, sends the error body. */
export function serveErrorHandler(metrics?: ServingMetrics) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const { status, body } = errorResponse(error);
    const model = (request.params as { name?: string } | undefined)?.name;
    metrics?.error(model ?? '', status);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(body);
  };
}

/** For tests and callers that had it: the handler without metrics. */
export const replyWithError = serveErrorHandler();

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
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join('');
}

/** A body that is not a JSON object is a 400 naming `body`. */
export function requireObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new LoomError('INVALID_ARGUMENT', 'body must be a JSON object', { field: 'body' });
  }
  return body as Record<string, unknown>;
}

/** A path segment that must be a whole version number. */
export function versionParam(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new LoomError('INVALID_ARGUMENT', `version "${value}" is not a whole number`, { field: 'version' });
  return Number(value);
}

/** The client's request id: the `x-request-id` header, else the body's `id`. */
export function requestIdOf(request: FastifyRequest, bodyId?: unknown): string | undefined {
  const header = request.headers['x-request-id'];
  if (typeof header === 'string' && header) return header;
  return typeof bodyId === 'string' && bodyId ? bodyId : undefined;
}
