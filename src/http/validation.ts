/**
 * The one adapter from zod to an HTTP request: a part of the request (body, query, params)
 * checked against its schema, failing with INVALID_ARGUMENT that names the first bad field
 * and lists every problem (core/validation.ts's `parseInput`). Protocol formatters turn it
 * into INVALID_PARAMETER_VALUE for MLflow clients and `{"error": ...}` for KServe ones.
 *
 * Usage: `const body = parseRequest(createRunBody, request.body);`
 */
import type { FastifyTypeProvider } from 'fastify';
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

/** Fastify's validator compiler for routes that declare zod schemas: the same errors as `parseRequest`. */
export function zodValidatorCompiler({ schema, httpPart }: { schema: unknown; httpPart?: string }) {
  return (data: unknown): { value: unknown } | { error: LoomError } => {
    try {
      return { value: parseRequest(schema as z.ZodType, data, { part: httpPart }) };
    } catch (error) {
      if (isLoomError(error)) return { error };
      throw error;
    }
  };
}
