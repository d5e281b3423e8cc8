/**
 * The one adapter from zod to an HTTP request: a part of the request (body, query, params)
 * checked against its schema, failing with INVALID_ARGUMENT that names the first bad field
 * and lists every problem (core/validation.ts's `parseInput`). Protocol formatters turn it
 * into INVALID_PARAMETER_VALUE for MLflow clients and `{"error": ...}` for KServe ones.
 *
 * Usage: `const body = parseRequest(createRunBody, request.body);`
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyTypeProvider, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { z } from 'zod';
import { LoomError, isLoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';

/** Where a request's fields are documented, for the fix. */
export interface RequestContext {
  /** Which part of the request the value is: `body` (default), `query`, `params`. */
  part?: string;
  fix?: string;
}

export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, context: RequestContext = {}): z.output<S> {
  // Query-string routes and bodyless DELETEs arrive as undefined: an empty request, not a missing one.
  return parseInput(schema, value ?? {}, { what: `the request ${context.part ?? 'body'}`, fix: context.fix });
}

/** Handler types from zod schemas, in Fastify's type-provider form. */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

/** An app whose routes take their handler types from their zod schemas: `scope.withTypeProvider<ZodTypeProvider>()`. */
export type ZodFastifyInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** Fastify's names of request parts, as a user reads them in an error. */
const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'headers' };

/**
 * Fastify's validator compiler for routes that declare zod schemas (`schema: { body, querystring, params }`):
 * the same errors as `parseRequest`, with the surface's fix (MLflow's routes point at MLflow's reference).
 * `createHttpApp` sets it on every app; a route plugin may set its own with a different fix.
 */
export function zodValidatorCompiler(context: Pick<RequestContext, 'fix'> = {}) {
  return ({ schema, httpPart }: { schema: unknown; httpPart?: string }) =>
    (data: unknown): { value: unknown } | { error: LoomError } => {
      try {
        return { value: parseRequest(schema as z.ZodType, data, { part: PART_NAMES[httpPart ?? 'body'] ?? httpPart, fix: context.fix }) };
      } catch (error) {
        if (isLoomError(error)) return { error };
        throw error;
      }
    };
}
