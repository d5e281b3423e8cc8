/**
 * The contract every TokenStore backend passes. A backend's test file calls
 * `describeTokenStoreContract('sqlite', makeStore)`; `makeStore` gives each test an empty store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { TOKEN_PREFIX } from './token-secret.js';
import type { TokenStore } from './token-store.js';

export type MakeTokenStore = () => Promise<{ tokens: TokenStore; close(): Promise<void> }>;

export function describeTokenStoreContract(name: string, makeStore: MakeTokenStore): void {
  const test = (title: string, body: (store: TokenStore) => Promise<void>) =>
    it(title, async () => {
      const { tokens, close } = await makeStore();
      try {
        await body(tokens);
      } finally {
        await close();
      }
    });

  describe(`TokenStore contract: ${name}`, () => {
    test('a created token verifies as its subject, role and grants; its secret is shown once', async (store) => {
      const grants = [{ model: 'flights', actions: ['alias.move' as const], aliases: ['staging'] }];
      const { token, secret } = await store.createToken({ subject: 'alice', role: 'editor', name: 'laptop', grants, createdBy: 'root' });
      assert.ok(secret.startsWith(TOKEN_PREFIX) && secret.length > TOKEN_PREFIX.length + 40);
      assert.deepEqual(await store.verifyToken(secret), { subject: 'alice', role: 'editor', grants, source: 'token', tokenId: token.id });
      const listed = await store.listTokens();
      assert.deepEqual(listed, [token]);
      assert.ok(!JSON.stringify(listed).includes(secret), 'the listing never carries the secret');
      const other = await store.createToken({ subject: 'alice', role: 'viewer', createdBy: 'root' });
      assert.notEqual(other.secret, secret);
      assert.notEqual(other.token.id, token.id);
    });

    test('unknown, malformed, revoked and expired secrets are UNAUTHENTICATED', async (store) => {
      const { token, secret } = await store.createToken({ subject: 'bob', role: 'admin', createdBy: 'root' });
      await rejectsWithCode(store.verifyToken(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`), 'UNAUTHENTICATED');
      await rejectsWithCode(store.verifyToken(''), 'UNAUTHENTICATED');
      const revoked = await store.revokeToken(token.id);
      assert.ok(revoked.revokedAt !== null);
      await rejectsWithCode(store.verifyToken(secret), 'UNAUTHENTICATED');
      assert.deepEqual((await store.revokeToken(token.id)).revokedAt, revoked.revokedAt, 'revoking twice keeps the first time');

      const expiresAt = Date.now() + 60_000;
      const soon = await store.createToken({ subject: 'carol', role: 'viewer', expiresAt, createdBy: 'root' });
      assert.equal((await store.verifyToken(soon.secret, expiresAt - 1)).subject, 'carol');
      await rejectsWithCode(store.verifyToken(soon.secret, expiresAt), 'UNAUTHENTICATED');
    });

    test('listing leaves out revoked and expired tokens unless asked', async (store) => {
      const kept = await store.createToken({ subject: 'a', role: 'viewer', createdBy: 'root' });
      const gone = await store.createToken({ subject: 'b', role: 'viewer', createdBy: 'root' });
      const old = await store.createToken({ subject: 'c', role: 'viewer', expiresAt: Date.now() + 1000, createdBy: 'root' });
      await store.revokeToken(gone.token.id);
      assert.deepEqual((await store.listTokens({ now: Date.now() + 2000 })).map((t) => t.id), [kept.token.id]);
      assert.deepEqual(new Set((await store.listTokens({ includeInactive: true })).map((t) => t.id)), new Set([kept.token.id, gone.token.id, old.token.id]));
    });

    test('bad specs and ids are refused', async (store) => {
      await rejectsWithCode(store.createToken({ subject: 'x y', role: 'editor', createdBy: 'root' }), 'INVALID_ARGUMENT', 'subject');
      await rejectsWithCode(store.createToken({ subject: 'x', role: 'owner' as never, createdBy: 'root' }), 'INVALID_ARGUMENT', 'role');
      await rejectsWithCode(store.createToken({ subject: 'x', role: 'editor', grants: [{ model: 'm', actions: ['delete' as never] }], createdBy: 'root' }), 'INVALID_ARGUMENT');
      await rejectsWithCode(store.revokeToken('nope'), 'INVALID_ARGUMENT', 'id');
      await rejectsWithCode(store.revokeToken('0123456789ab'), 'NOT_FOUND', 'id');
    });
  });
}
