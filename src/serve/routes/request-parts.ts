/**
 * Reading the parts of a serving request every protocol shares: a body that must be an
 * object, a version in the path, the client's request id. Failures are LoomErrors; the
 * shared error handler (src/http) shapes them for the route's protocol.
 *
 * Usage: `const version = versionParam(request.params.version);`
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LoomError } from '../../core/errors.js';
import { REQUEST_ID_HEADER, isValidRequestId } from '../../http/request-log.js';

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

/**
 * The request's id, as the prediction log records it: the client's valid `x-request-id`
 * header, else a valid body `id` (V2), else the id the server gave the request (the one its
 * log lines and `x-request-id` answer carry). A body id that is used is echoed in the header too.
 */
export function requestIdOf(request: FastifyRequest, reply: FastifyReply, bodyId?: unknown): string {
  if (bodyId === undefined || request.headers[REQUEST_ID_HEADER] === request.id || !isValidRequestId(bodyId)) return request.id;
  reply.header(REQUEST_ID_HEADER, bodyId);
  return bodyId;
}

/** A percent-encoded path segment, decoded; malformed encoding is a 400, never a thrown URIError. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new LoomError('INVALID_ARGUMENT', `the URL segment ${JSON.stringify(segment)} is not validly percent-encoded`, { field: 'url', fix: 'encode "%" as %25' });
  }
}
