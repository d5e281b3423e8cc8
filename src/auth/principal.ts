/**
 * Who is calling: the one function both servers' principal plugin (and the CLI) calls.
 * `Authorization: Bearer <token>` carries a Loom API token (`loom_pat_…`) or, when an
 * identity provider is configured, a JWT; MLflow clients send `MLFLOW_TRACKING_TOKEN` that
 * way. `Basic` with the token as password (MLflow's username/password settings) works too.
 * Without credentials the caller is refused, unless the server runs open (the loopback
 * default), where it is an unauthenticated admin named by `X-Loom-Actor`.
 *
 * Usage: `const resolve = createPrincipalResolver({ tokens }); const principal = await resolve(request.headers)`
 */
import type { IncomingHttpHeaders } from 'node:http';
import { LoomError } from '../core/errors.js';
import { looksLikeLoomToken } from './token-secret.js';
import type { TokenStore } from './token-store.js';
import { claimedSubject, type Principal } from './types.js';

export interface PrincipalResolverOptions {
  tokens: TokenStore;
  /** Verifies JWTs from the identity provider (`createJwtVerifier`); without it only Loom tokens are accepted. */
  jwt?: (token: string) => Promise<Principal>;
  /**
   * Accept requests without credentials (the loopback default). The subject is the
   * `X-Loom-Actor` header, or `defaultSubject`: a claim, not an identity, which is why
   * only loopback may run open.
   */
  open?: { defaultSubject: string };
}

export type PrincipalResolver = (headers: IncomingHttpHeaders) => Promise<Principal>;

const FIX = 'send Authorization: Bearer <token> (`loom login` for the CLI; MLFLOW_TRACKING_TOKEN for MLflow clients); an admin issues tokens with `loom token create`';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The credential in an Authorization header, or undefined when there is none. */
export function credentialOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.trim() === '') return undefined;
  const match = /^(\S+)\s+(\S+)\s*$/.exec(authorization.trim());
  const scheme = match?.[1]?.toLowerCase();
  if (match && scheme === 'bearer') return match[2];
  if (match && scheme === 'basic') {
    const decoded = Buffer.from(match[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0 && decoded.length > colon + 1) return decoded.slice(colon + 1);
  }
  throw new LoomError('UNAUTHENTICATED', 'the Authorization header is not "Bearer <token>" (or Basic with the token as password)', { fix: FIX });
}

/** Builds the resolver: headers in, a principal out, or UNAUTHENTICATED. */
export function createPrincipalResolver(options: PrincipalResolverOptions): PrincipalResolver {
  return async (headers) => {
    const credential = credentialOf(single(headers.authorization));
    if (credential !== undefined) {
      if (looksLikeLoomToken(credential)) return options.tokens.verifyToken(credential);
      if (options.jwt && credential.split('.').length === 3) return options.jwt(credential);
      throw new LoomError('UNAUTHENTICATED', options.jwt ? 'the bearer credential is neither a Loom API token nor a JWT' : 'the bearer credential is not a Loom API token', { fix: FIX });
    }
    if (!options.open) throw new LoomError('UNAUTHENTICATED', 'this server needs authentication and the request carries no credentials', { fix: FIX });
    return { subject: claimedSubject(single(headers['x-loom-actor'])) ?? options.open.defaultSubject, role: 'admin', grants: [], source: 'open' };
  };
}
