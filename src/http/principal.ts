/**
 * Who a request acts for: `request.principal`, resolved in one place for both servers.
 * Today it is the `X-Loom-Actor` header (free text, as the CLI's `--actor`) or the
 * server's default name; the security work fills the same seat from verified tokens, so
 * routes never read identity headers themselves.
 *
 * Usage: `await registry.setAlias(name, alias, version, { actor: request.principal.name, reason })`
 */
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export interface Principal {
  /** The name recorded as the actor of what the request changes. */
  name: string;
  /** Where the name came from: a header the client sent, or the server's default for anonymous requests. */
  source: 'header' | 'anonymous';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request acts for (resolved on first read). */
    readonly principal: Principal;
  }
}

/** Longest actor name taken from a header; longer ones are cut, so a record never carries kilobytes of "name". */
const MAX_NAME = 200;

/** The one resolver: `X-Loom-Actor` (first value, trimmed) or the anonymous default. */
export function resolvePrincipal(request: Pick<FastifyRequest, 'headers'>, anonymousName: string): Principal {
  const header = request.headers['x-loom-actor'];
  const name = (Array.isArray(header) ? header[0] : header)?.trim().slice(0, MAX_NAME);
  return name ? { name, source: 'header' } : { name: anonymousName, source: 'anonymous' };
}

const resolved = Symbol('loom.principal');

/** Adds `request.principal` to every request (lazily: requests that never ask pay nothing). */
export const principalPlugin = fp<{ anonymousName: string }>(
  async (app, { anonymousName }) => {
    app.decorateRequest('principal', {
      getter(this: FastifyRequest & { [resolved]?: Principal }) {
        return (this[resolved] ??= resolvePrincipal(this, anonymousName));
      },
    });
  },
  { name: 'loom-principal', fastify: '5.x' },
);
