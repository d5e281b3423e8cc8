/**
 * The API token store interface; `KyselyTokenStore` implements it on SQLite and
 * PostgreSQL and both pass `token-store.contract.ts`.
 *
 * Rules every backend keeps: a secret is returned once, by `createToken`, and only its hash
 * is kept; an expired or revoked token, or an unknown secret, is UNAUTHENTICATED with the
 * same message (a caller learns nothing about which tokens exist); revoking is permanent.
 */
import type { ApiToken, NewToken, Principal } from './types.js';

export interface TokenStore {
  /** Issues a token; the secret is in the answer and nowhere else. INVALID_ARGUMENT for a bad spec. */
  createToken(spec: NewToken): Promise<{ token: ApiToken; secret: string }>;
  /** Tokens newest first; revoked and expired ones only with `includeInactive`. */
  listTokens(options?: { includeInactive?: boolean; now?: number }): Promise<ApiToken[]>;
  /** Revokes a token for good (revoking twice keeps the first time); NOT_FOUND for an unknown id. */
  revokeToken(id: string): Promise<ApiToken>;
  /** The principal a secret stands for; UNAUTHENTICATED if it is unknown, expired or revoked. */
  verifyToken(secret: string, now?: number): Promise<Principal>;
}
