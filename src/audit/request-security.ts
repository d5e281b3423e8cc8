/**
 * Everything a server needs to authenticate, authorize and audit its requests, built once
 * at start from the database connection, the auth settings and the address it binds:
 * whether it may run open (refused off loopback unless forced), the principal resolver
 * (Loom tokens, and JWTs when an identity provider is configured), the audit log, and the
 * per-request change context that `GuardedRegistry` and `recordChange` take.
 *
 * Usage:
 *   const security = await openRequestSecurity(db.connection, settings, host);
 *   log(security.exposure.notice);
 *   // per request: const principal = await security.resolvePrincipal(request.headers);
 *   //              const registry = new GuardedRegistry(db.registry, security.contextFor(principal, request.ip));
 */
import type { Kysely } from 'kysely';
import { decideExposure, type ExposureDecision } from '../auth/exposure.js';
import { createJwtVerifier } from '../auth/jwt.js';
import { openTokenStore } from '../auth/kysely-token-store.js';
import { createPrincipalResolver, type PrincipalResolver } from '../auth/principal.js';
import type { AuthSettings } from '../auth/settings.js';
import type { TokenStore } from '../auth/token-store.js';
import type { Principal } from '../auth/types.js';
import type { DialectKind } from '../metadata/db-schema.js';
import type { AuditLog } from './audit-log.js';
import { openAuditLog } from './kysely-audit-log.js';
import type { ChangeContext } from './record-change.js';

export interface RequestSecurity {
  exposure: ExposureDecision;
  resolvePrincipal: PrincipalResolver;
  tokens: TokenStore;
  audit: AuditLog;
  contextFor(principal: Principal, address: string): ChangeContext;
}

export async function openRequestSecurity(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Loom database, whose other tables this code never names
  connection: { db: Kysely<any>; dialect: DialectKind; schema?: string },
  settings: AuthSettings,
  host: string,
  /** The name recorded for unauthenticated requests on an open server without `X-Loom-Actor`. */
  openSubject = 'anonymous',
): Promise<RequestSecurity> {
  const exposure = decideExposure({ host, authRequired: settings.required || settings.jwt !== undefined, forceOpen: settings.insecureOpen });
  const tokens = await openTokenStore(connection.db, connection.dialect, connection.schema);
  const audit = await openAuditLog(connection.db, connection.dialect, connection.schema);
  const resolvePrincipal = createPrincipalResolver({
    tokens,
    jwt: settings.jwt ? createJwtVerifier(settings.jwt) : undefined,
    open: exposure.open ? { defaultSubject: openSubject } : undefined,
  });
  return { exposure, resolvePrincipal, tokens, audit, contextFor: (principal, address) => ({ principal, address, audit }) };
}
