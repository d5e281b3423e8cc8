/**
 * Who a request acts for: `request.principal`, resolved in one place for both servers.
 * With `security` (what `createRequestSecurity` builds at start), every request but the
 * health and metrics probes is authenticated before routing: a Loom token or JWT as
 * `Authorization: Bearer`, or, on an open loopback server only, the `X-Loom-Actor` claim;
 * failures are 401 in the server's error format. An open server also checks the Host
 * header against its allow-list (DNS rebinding). Without `security` (apps built for tests)
 * the principal is the open one, named by `X-Loom-Actor` or the server's default name.
 *
 * Usage: `await registry.setAlias(name, alias, version, { actor: request.principal.subject, reason })`
 */
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { PrincipalResolver } from '../auth/principal.js';
import { isAllowedHost } from '../auth/exposure.js';
import { claimedSubject, type Principal } from '../auth/types.js';
import { LoomError } from '../core/errors.js';

export type { Principal };

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request acts for (verified before routing when the server authenticates). */
    readonly principal: Principal;
  }
}

export interface PrincipalOptions {
  /** The name of an open server's request that names none. */
  anonymousName: string;
  security?: {
    resolvePrincipal: PrincipalResolver;
    /** Host names an open loopback server answers to; undefined: any. */
    allowedHosts?: readonly string[];
    /** Further paths served without credentials, the server's own (the dashboard's static files: they hold no data). */
    isPublic?: (url: string) => boolean;
  };
}

/**
 * Probes answer without credentials: they reveal no model data and orchestrators send none
 * (`/health` and the model server's `/ping` are MLflow's scoring-server probes, `/v2/health/*`
 * KServe's; `/metrics` carries counts and timings by model name, for Prometheus). `/openapi.json`
 * describes the routes and holds no data, and code generators fetch it before they have a token.
 */
const PUBLIC_PATHS = /^\/(health|ping|metrics|openapi\.json|v2\/health\/(live|ready))(\/|$|\?)/;

/** Whether a request URL is one of the probes that need no credentials (and count against no rate limit). */
export function isPublicPath(url: string): boolean {
  return PUBLIC_PATHS.test(url);
}

/** The open principal of an app built without authentication: the `X-Loom-Actor` claim, or the default name. */
export function openPrincipal(request: Pick<FastifyRequest, 'headers'>, anonymousName: string): Principal {
  const header = request.headers['x-loom-actor'];
  return { subject: claimedSubject(Array.isArray(header) ? header[0] : header) ?? anonymousName, role: 'admin', grants: [], source: 'open' };
}

const resolved = Symbol('loom.principal');
type WithPrincipal = FastifyRequest & { [resolved]?: Principal };

/** Adds `request.principal` to every request. */
export const principalPlugin = fp<PrincipalOptions>(
  async (app, { anonymousName, security }) => {
    app.decorateRequest('principal', {
      getter(this: WithPrincipal) {
        return (this[resolved] ??= openPrincipal(this, anonymousName));
      },
    });
    if (!security) return;
    app.addHook('onRequest', async (request: WithPrincipal) => {
      if (security.allowedHosts && !isAllowedHost(request.headers.host, security.allowedHosts)) {
        throw new LoomError('PERMISSION_DENIED', 'this server answers only to its loopback names (Host: localhost, 127.0.0.1 or ::1)', {
          fix: 'call it as http://127.0.0.1:<port>; a server for other hosts needs authentication',
        });
      }
      if (isPublicPath(request.url) || security.isPublic?.(request.url)) return;
      request[resolved] = await security.resolvePrincipal(request.headers);
    });
  },
  { name: 'loom-principal', fastify: '5.x' },
);
