// OIDC/JWT verification against a real JWKS endpoint on loopback, with tokens signed by a
// key generated for the test, as an identity provider would issue them.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { createJwtVerifier } from './jwt.js';

const issuer = 'https://idp.example.test';
const audience = 'loom';

describe('JWT bearer verification', () => {
  let server: Server;
  let jwksUrl: string;
  let key: CryptoKey;
  let strangerKey: CryptoKey;

  before(async () => {
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey;
    strangerKey = (await generateKeyPair('RS256')).privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((request, response) => {
      response.writeHead(request.url === '/jwks.json' ? 200 : 404, { 'content-type': 'application/json' });
      response.end(request.url === '/jwks.json' ? JSON.stringify({ keys: [jwk] }) : '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sign = (claims: Record<string, unknown>, options: { with?: CryptoKey; iss?: string; aud?: string; exp?: string | number } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(options.iss ?? issuer)
      .setAudience(options.aud ?? audience)
      .setIssuedAt()
      .setExpirationTime(options.exp ?? '5m')
      .sign(options.with ?? key);

  it('accepts a token from the provider and takes the subject and strongest role from its claims', async () => {
    const verify = createJwtVerifier({ issuer, audience, jwksUrl, subjectClaim: 'email' });
    const principal = await verify(await sign({ sub: 'u-1', email: 'ana@example.test', loom_role: ['viewer', 'editor', 'owner'] }));
    assert.deepEqual(principal, { subject: 'ana@example.test', role: 'editor', grants: [], source: 'jwt' });
    const plain = await createJwtVerifier({ issuer, audience, jwksUrl })(await sign({ sub: 'u-2' }));
    assert.deepEqual([plain.subject, plain.role], ['u-2', 'viewer']);
  });

  it('refuses another issuer, another audience, an expired token, a stranger\'s signature and an unsigned token', async () => {
    const verify = createJwtVerifier({ issuer, audience, jwksUrl });
    await rejectsWithCode(verify(await sign({ sub: 'x' }, { iss: 'https://evil.test' })), 'UNAUTHENTICATED');
    await rejectsWithCode(verify(await sign({ sub: 'x' }, { aud: 'other-app' })), 'UNAUTHENTICATED');
    await rejectsWithCode(verify(await sign({ sub: 'x' }, { exp: Math.floor(Date.now() / 1000) - 3600 })), 'UNAUTHENTICATED');
    await rejectsWithCode(verify(await sign({ sub: 'x' }, { with: strangerKey })), 'UNAUTHENTICATED');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', iss: issuer, aud: audience })).toString('base64url')}.`;
    await rejectsWithCode(verify(unsigned), 'UNAUTHENTICATED');
    await rejectsWithCode(verify(await sign({ email: 'no-sub@example.test' })), 'UNAUTHENTICATED');
  });

  it('refuses settings without an issuer, an audience or a JWKS URL', () => {
    assert.throws(() => createJwtVerifier({ issuer, audience: '', jwksUrl }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => createJwtVerifier({ issuer, audience, jwksUrl: 'file:///etc/keys' }), { code: 'INVALID_ARGUMENT' });
  });
});
