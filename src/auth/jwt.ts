/**
 * OIDC/JWT bearer verification for teams with an identity provider, with `jose`: the
 * signature against the provider's JWKS (fetched and cached by key id), the issuer, the
 * audience, expiry and not-before (60 s of clock skew allowed). The role comes from a claim
 * (a string or a list; the strongest known role wins), the subject from `sub` or another claim.
 *
 * Usage: `const verify = createJwtVerifier({ issuer, audience, jwksUrl }); const principal = await verify(bearer)`
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import { ROLES, subjectSchema, type Principal, type Role } from './types.js';

/** Asymmetric algorithms only: an HMAC secret shared with every verifier is not an identity provider. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

export const jwtSettingsSchema = z
  .object({
    issuer: z.string().min(1),
    audience: z.string().min(1),
    jwksUrl: z.url({ protocol: /^https?$/ }),
    /** The claim naming the principal (default `sub`; `email` or `preferred_username` are common). */
    subjectClaim: z.string().min(1).default('sub'),
    /** The claim carrying the role (a string or a list of strings). */
    roleClaim: z.string().min(1).default('loom_role'),
    /** The role of a verified token without a known role in its claim. */
    defaultRole: z.enum(ROLES).default('viewer'),
    algorithms: z.array(z.enum(ALGORITHMS)).min(1).default([...ALGORITHMS]),
  })
  .strict();
export type JwtSettings = z.input<typeof jwtSettingsSchema>;

function strongestRole(claim: unknown, fallback: Role): Role {
  const values = (Array.isArray(claim) ? claim : [claim]).filter((v): v is string => typeof v === 'string');
  const known = values.map((v) => ROLES.indexOf(v as Role)).filter((i) => i >= 0);
  return known.length === 0 ? fallback : ROLES[Math.max(...known)]!;
}

/** Why a token was refused, in words that help without revealing more than the token holder knows. */
function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `its "${error.claim}" claim is not accepted (${error.reason})`;
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) return 'its signature does not match the identity provider\'s keys';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'its algorithm is not accepted';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** A verifier for bearer JWTs; each call returns the principal or throws UNAUTHENTICATED. */
export function createJwtVerifier(settings: JwtSettings): (token: string) => Promise<Principal> {
  const valid = parseInput(jwtSettingsSchema, settings, { what: 'the OIDC/JWT settings', fix: 'give issuer, audience and jwksUrl (the provider\'s jwks_uri)' });
  const keys = createRemoteJWKSet(new URL(valid.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer: valid.issuer, audience: valid.audience, algorithms: valid.algorithms, clockTolerance: 60 }));
    } catch (error) {
      throw new LoomError('UNAUTHENTICATED', `the bearer token was refused: ${reason(error)}`, {
        fix: `sign in again with the identity provider ${valid.issuer} and send the new token`,
      });
    }
    const subject = subjectSchema.safeParse(payload[valid.subjectClaim]);
    if (!subject.success) {
      throw new LoomError('UNAUTHENTICATED', `the bearer token has no usable "${valid.subjectClaim}" claim to name its holder`, {
        fix: 'ask the identity provider administrator to include it, or set subjectClaim to a claim the tokens carry',
      });
    }
    return { subject: subject.data, role: strongestRole(payload[valid.roleClaim], valid.defaultRole), grants: [], source: 'jwt' };
  };
}
