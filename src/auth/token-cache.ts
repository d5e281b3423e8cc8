/**
 * Verified API tokens remembered for a short while, so a server that checks a token on
 * every request (the model server, whose predictions take microseconds) does not pay a
 * database read per request. The price is staleness: a token revoked (or expiring) in the
 * database, by `loom token revoke` or another process, is still accepted by a server that
 * verified it less than `ttlMs` ago, so for at most `ttlMs` (default 30 s) after the
 * revocation. Expiry is known in advance, so an expiring token is never kept past it.
 * Refused secrets are never remembered: a token issued a moment ago works at once.
 * Entries are keyed by the secret's hash, so the cache holds no secret, and it is bounded.
 *
 * Usage: `const tokens = cacheVerifiedTokens(platform.tokens, { ttlMs: 30_000 })`
 */
import { hashTokenSecret } from './token-secret.js';
import type { TokenStore } from './token-store.js';
import type { Principal } from './types.js';

/** How long a verified token is trusted without asking the database again, by default. */
export const DEFAULT_TOKEN_CACHE_MS = 30_000;

export interface TokenCacheOptions {
  /** How long a verification is reused, in ms; 0 turns the cache off. Default 30 s. */
  ttlMs?: number;
  /** Most tokens remembered; the oldest verification is forgotten first. Default 10,000. */
  maxEntries?: number;
  /** The clock (epoch ms); tests move it instead of waiting. */
  now?: () => number;
}

/** `store` with `verifyToken` answered from memory for `ttlMs` after a successful check. */
export function cacheVerifiedTokens(store: TokenStore, options: TokenCacheOptions = {}): TokenStore {
  const ttlMs = options.ttlMs ?? DEFAULT_TOKEN_CACHE_MS;
  if (ttlMs <= 0) return store;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const verified = new Map<string, { principal: Principal; until: number }>();
  return {
    createToken: (spec) => store.createToken(spec),
    listTokens: (listOptions) => store.listTokens(listOptions),
    async revokeToken(id) {
      const revoked = await store.revokeToken(id);
      // Revoked here, so at least this process stops accepting it at once.
      verified.clear();
      return revoked;
    },
    async verifyToken(secret, at) {
      const key = hashTokenSecret(secret);
      const time = at ?? now();
      const hit = verified.get(key);
      if (hit && hit.until > time) return hit.principal;
      verified.delete(key);
      const principal = await store.verifyToken(secret, time);
      if (verified.size >= maxEntries) verified.delete(verified.keys().next().value!);
      verified.set(key, { principal, until: Math.min(time + ttlMs, principal.expiresAt ?? Infinity) });
      return principal;
    },
  };
}
