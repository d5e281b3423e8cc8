/**
 * Per-principal request rate limits (`@fastify/rate-limit`): at most `max` requests per
 * `windowMs` for each API token (by its id), JWT subject or, for anonymous requests on an
 * open server, client address. Over the limit a request is answered 429 RESOURCE_EXHAUSTED
 * through the one error mapping (in the route's protocol shape) with `Retry-After` in
 * seconds. Probes (health, metrics) are never limited. Registered after the principal
 * plugin, whose hook has authenticated the request by the time the limit is counted, so a
 * request with a bad token is refused (401) without counting against anyone.
 *
 * The counts live in the process's memory. Under `loom serve --workers N` each worker
 * counts for itself, so a client whose connections the kernel spreads over several workers
 * may get up to N times the limit; a client on one keep-alive connection gets exactly it.
 * That is the point of the limit here: one token cannot monopolise a worker's event loop
 * (the resource each worker has alone), not an exact quota, which needs a shared store.
 *
 * Usage: `await app.register(rateLimitPlugin, { max: 600, windowMs: 60_000 })`
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { RateLimit } from '../auth/settings.js';
import { LoomError } from '../core/errors.js';
import { isPublicPath } from './principal.js';

/** Whose budget a request spends: its token, its JWT subject, or its address when it is anonymous. */
export function rateLimitKey(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal.source === 'token' && principal.tokenId !== undefined) return `token:${principal.tokenId}`;
  if (principal.source === 'jwt') return `jwt:${principal.subject}`;
  return `ip:${request.ip}`;
}

export const rateLimitPlugin = fp<RateLimit>(
  async (app, limit) => {
    await app.register(rateLimit, {
      global: true,
      max: limit.max,
      timeWindow: limit.windowMs,
      hook: 'onRequest',
      keyGenerator: rateLimitKey,
      allowList: (request) => isPublicPath(request.url),
      errorResponseBuilder: (_request, context) =>
        new LoomError('RESOURCE_EXHAUSTED', `too many requests: at most ${context.max} per ${limit.windowMs / 1000} s for each token (or address)`, {
          fix: `retry after ${context.after} (the Retry-After header); a client that needs more asks the operator to raise http.rateLimit`,
          retryable: true,
        }),
    });
  },
  { name: 'loom-rate-limit', fastify: '5.x' },
);
