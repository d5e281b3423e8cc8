/**
 * API token secrets: 32 random bytes behind a recognisable prefix, so secret scanners
 * (and people) can tell a leaked Loom token. Only the SHA-256 of a secret is stored: the
 * secret has 256 bits of entropy, so a fast hash is enough (a slow password hash protects
 * guessable secrets, which these are not).
 */
import { createHash, randomBytes } from 'node:crypto';

/** Every Loom API token starts with this. */
export const TOKEN_PREFIX = 'loom_pat_';

const TOKEN_SHAPE = /^loom_pat_[A-Za-z0-9_-]{43}$/;

/** A new secret and the id it is listed under (the id is not derived from the secret). */
export function newTokenSecret(): { id: string; secret: string } {
  return { id: randomBytes(6).toString('hex'), secret: TOKEN_PREFIX + randomBytes(32).toString('base64url') };
}

/** True for a string shaped like a Loom API token (as opposed to a JWT). */
export function looksLikeLoomToken(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

/** The stored form of a secret. */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
