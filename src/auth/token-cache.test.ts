// The verified-token cache keeps the TokenStore contract on both backends (revoking through it
// and expiry take effect at once), and reuses a verification only within its period: a token
// revoked elsewhere passes until then and is refused after; nothing refused is remembered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openFreshKysely, postgresTestUrl } from '../../test/support/databases.js';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { KyselyTokenStore } from './kysely-token-store.js';
import { cacheVerifiedTokens } from './token-cache.js';
import { describeTokenStoreContract } from './token-store.contract.js';

async function make(url?: string) {
  const fresh = await openFreshKysely(url);
  return { tokens: cacheVerifiedTokens(new KyselyTokenStore(fresh.db)), close: fresh.close };
}

describeTokenStoreContract('sqlite, cached', () => make());
const url = postgresTestUrl('cached token store contract');
if (url) describeTokenStoreContract('postgres, cached', () => make(url));

describe('verified-token cache', () => {
  it('answers from memory within the period, asks the store again after it', async () => {
    const fresh = await openFreshKysely();
    try {
      const store = new KyselyTokenStore(fresh.db);
      let now = 1_000_000;
      const cached = cacheVerifiedTokens(store, { ttlMs: 10_000, now: () => now });
      const { token, secret } = await store.createToken({ subject: 'app', role: 'viewer', createdBy: 'test' });
      assert.equal((await cached.verifyToken(secret)).subject, 'app');
      await store.revokeToken(token.id);
      now += 9_999;
      assert.equal((await cached.verifyToken(secret)).subject, 'app', 'revoked elsewhere: still trusted within the period');
      now += 1;
      await rejectsWithCode(cached.verifyToken(secret), 'UNAUTHENTICATED');
      await rejectsWithCode(cached.verifyToken(secret), 'UNAUTHENTICATED');

      const expiring = await store.createToken({ subject: 'soon', role: 'viewer', createdBy: 'test', expiresAt: now + 5_000 });
      assert.equal((await cached.verifyToken(expiring.secret)).subject, 'soon');
      now += 5_000;
      await rejectsWithCode(cached.verifyToken(expiring.secret), 'UNAUTHENTICATED');
    } finally {
      await fresh.close();
    }
  });

  it('forgets the oldest verification past its size', async () => {
    const fresh = await openFreshKysely();
    try {
      const store = new KyselyTokenStore(fresh.db);
      const cached = cacheVerifiedTokens(store, { ttlMs: 60_000, maxEntries: 1 });
      const first = await store.createToken({ subject: 'a', role: 'viewer', createdBy: 'test' });
      const second = await store.createToken({ subject: 'b', role: 'viewer', createdBy: 'test' });
      await cached.verifyToken(first.secret);
      await cached.verifyToken(second.secret);
      await store.revokeToken(first.token.id);
      await store.revokeToken(second.token.id);
      await rejectsWithCode(cached.verifyToken(first.secret), 'UNAUTHENTICATED');
      assert.equal((await cached.verifyToken(second.secret)).subject, 'b', 'the newer one is still remembered');
    } finally {
      await fresh.close();
    }
  });
});
