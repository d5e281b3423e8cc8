/**
 * How a server authenticates, decided once at start from the auth settings and the address
 * it binds: whether it may run open (loopback only, unless forced; see `decideExposure`) and
 * the principal resolver (Loom tokens, and JWTs when an identity provider is configured).
 * Both servers build theirs here; the model server also caches verified tokens
 * (`cacheVerifiedTokens`), since its workers would otherwise read the database per prediction.
 *
 * Usage: `const { exposure, resolvePrincipal } = createServerAuthentication({ tokens, settings, host: '0.0.0.0' })` (throws FAILED_PRECONDITION)
 */
import { decideExposure, type ExposureDecision } from './exposure.js';
import { createJwtVerifier } from './jwt.js';
import { createPrincipalResolver, type PrincipalResolver } from './principal.js';
import type { AuthSettings } from './settings.js';
import { cacheVerifiedTokens, type TokenCacheOptions } from './token-cache.js';
import type { TokenStore } from './token-store.js';

export interface ServerAuthentication {
  exposure: ExposureDecision;
  resolvePrincipal: PrincipalResolver;
}

export interface ServerAuthenticationOptions {
  tokens: TokenStore;
  settings: AuthSettings;
  /** The address the server binds. */
  host: string;
  /** The name of unauthenticated requests on an open server without `X-Loom-Actor`. */
  openSubject?: string;
  /** Reuse verified tokens for a while (default: verify every request against the store). */
  tokenCache?: TokenCacheOptions;
}

/** The exposure decision for the settings and address, without building a resolver (the cluster primary checks it before forking). */
export function exposureOf(settings: AuthSettings, host: string): ExposureDecision {
  return decideExposure({ host, authRequired: settings.required || settings.jwt !== undefined, forceOpen: settings.insecureOpen });
}

/** Throws FAILED_PRECONDITION for an open server off loopback (unless forced). */
export function createServerAuthentication(options: ServerAuthenticationOptions): ServerAuthentication {
  const exposure = exposureOf(options.settings, options.host);
  const tokens = options.tokenCache ? cacheVerifiedTokens(options.tokens, options.tokenCache) : options.tokens;
  const resolvePrincipal = createPrincipalResolver({
    tokens,
    jwt: options.settings.jwt ? createJwtVerifier(options.settings.jwt) : undefined,
    open: exposure.open ? { defaultSubject: options.openSubject ?? 'anonymous' } : undefined,
  });
  return { exposure, resolvePrincipal };
}
