/**
 * Everything a server needs to authenticate, authorize and audit its requests, built once
 * at start from the platform's token store and audit log, the auth settings and the address it binds:
 * whether it may run open (refused off loopback unless forced), the principal resolver
 * (Loom tokens, and JWTs when an identity provider is configured), the audit log, and the
 * per-request change context that `GuardedRegistry` and `recordChange` take.
 *
 * Usage:
 *   const security = createRequestSecurity(platform, settings, host);
 *   log(security.exposure.notice);
 *   // per request: const principal = await security.resolvePrincipal(request.headers);
 *   //              const registry = new GuardedRegistry(db.registry, security.contextFor(principal, request.ip));
 */
import type { ExposureDecision } from '../auth/exposure.js';
import type { PrincipalResolver } from '../auth/principal.js';
import { createServerAuthentication } from '../auth/server-authentication.js';
import type { AuthSettings } from '../auth/settings.js';
import type { TokenStore } from '../auth/token-store.js';
import type { Principal } from '../auth/types.js';
import type { AuditLog } from './audit-log.js';
import type { ChangeContext } from './record-change.js';

export interface RequestSecurity {
  exposure: ExposureDecision;
  resolvePrincipal: PrincipalResolver;
  tokens: TokenStore;
  audit: AuditLog;
  contextFor(principal: Principal, address: string): ChangeContext;
}

/** Throws FAILED_PRECONDITION for an open server off loopback (unless forced). */
export function createRequestSecurity(
  stores: { tokens: TokenStore; audit: AuditLog },
  settings: AuthSettings,
  host: string,
  /** The name recorded for unauthenticated requests on an open server without `X-Loom-Actor`. */
  openSubject = 'anonymous',
): RequestSecurity {
  const { tokens, audit } = stores;
  const { exposure, resolvePrincipal } = createServerAuthentication({ tokens, settings, host, openSubject });
  return { exposure, resolvePrincipal, tokens, audit, contextFor: (principal, address) => ({ principal, address, audit }) };
}
