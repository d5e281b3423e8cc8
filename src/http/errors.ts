/**
 * The one mapping from anything a request handler throws to an HTTP answer. LoomErrors keep
 * their code (status from `HTTP_STATUS`, the single table); Fastify's own errors (bad JSON,
 * body too large, wrong media type, malformed URL) and a malformed percent-encoding get the
 * 4xx they deserve; anything else is a 500 whose message is never sent (it may name the
 * server's files), only logged. The protocol formatters (`formats.ts`) shape the result.
 *
 * Usage: `const problem = httpProblemOf(error); reply.code(problem.status).send(kserveErrorBody(problem))`
 */
import type { FastifyError } from 'fastify';
import { HTTP_STATUS, isLoomError, type ErrorCode } from '../core/errors.js';

/** One bad field of a request, when a request has several (KServe bodies list them all). */
export interface HttpFieldProblem {
  field: string;
  message: string;
}

/** What kind of failure a non-Loom error was; the MLflow formatter names some of them its own way. */
export type FrameworkFailure = 'malformed-json' | 'too-large' | 'media-type' | 'bad-url' | 'no-route' | 'other';

/** A failure ready to be shaped by a protocol's formatter. */
export interface HttpProblem {
  status: number;
  code: ErrorCode;
  message: string;
  field?: string;
  fix?: string;
  problems?: HttpFieldProblem[];
  /** Set when the failure did not come from a LoomError (its code was derived from the status). */
  framework?: FrameworkFailure;
  /** A server fault: log the original error, never show its message. */
  internal: boolean;
}

/** The message a 500 answers with: what was thrown may name files or internals. */
export const INTERNAL_MESSAGE = 'internal error: the request could not be completed; the server log has the details';

export function httpProblemOf(error: unknown): HttpProblem {
  if (isLoomError(error)) {
    const problem: HttpProblem = { status: HTTP_STATUS[error.code], code: error.code, message: error.message, internal: error.code === 'INTERNAL' };
    if (error.field) problem.field = error.field;
    if (error.fix) problem.fix = error.fix;
    const problems = (error as { problems?: HttpFieldProblem[] }).problems;
    if (Array.isArray(problems) && problems.length > 0) problem.problems = problems;
    return problem;
  }
  const fastifyError = error as Partial<FastifyError>;
  const framework = (failure: FrameworkFailure, status: number, code: ErrorCode, message: string, field?: string): HttpProblem => ({
    status,
    code,
    message,
    framework: failure,
    internal: false,
    ...(field && { field }),
  });
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return framework('malformed-json', 400, 'INVALID_ARGUMENT', 'the request body is not valid JSON', 'body');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return framework('too-large', 413, 'RESOURCE_EXHAUSTED', 'the request body is larger than the server accepts; send less per request');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return framework('media-type', 415, 'INVALID_ARGUMENT', `unsupported content type: ${fastifyError.message ?? ''}`, 'content-type');
    case 'FST_ERR_BAD_URL':
      return framework('bad-url', 400, 'INVALID_ARGUMENT', 'the URL is not validly percent-encoded', 'url');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return framework('bad-url', 414, 'INVALID_ARGUMENT', 'a part of the URL is longer than the server accepts', 'url');
  }
  // JSON.parse (a parser's SyntaxError, prototype poisoning) and decodeURIComponent (URIError).
  if (error instanceof SyntaxError) return framework('malformed-json', 400, 'INVALID_ARGUMENT', 'the request body is not valid JSON', 'body');
  if (error instanceof URIError) return framework('bad-url', 400, 'INVALID_ARGUMENT', 'the URL is not validly percent-encoded', 'url');
  const status = typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 600 ? fastifyError.statusCode : 500;
  if (status >= 500) return { status, code: status === 503 ? 'UNAVAILABLE' : 'INTERNAL', message: INTERNAL_MESSAGE, internal: true };
  const code: ErrorCode = status === 404 ? 'NOT_FOUND' : status === 429 ? 'RESOURCE_EXHAUSTED' : 'INVALID_ARGUMENT';
  return framework(status === 404 ? 'no-route' : 'other', status, code, fastifyError.message || 'bad request');
}
