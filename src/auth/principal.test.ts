// The principal resolver over a real token store (SQLite) and a stub-free JWT path (a JWT
// verifier is a plain function, given here as one that records what it was handed).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openFreshKysely, type FreshKysely } from '../../test/support/databases.js';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { KyselyTokenStore } from './kysely-token-store.js';
import { createPrincipalResolver } from './principal.js';

describe('createPrincipalResolver', () => {
  let fresh: FreshKysely;
  let tokens: KyselyTokenStore;
  before(async () => {
    fresh = await openFreshKysely();
    tokens = new KyselyTokenStore(fresh.db);
  });
  after(() => fresh.close());

  it('accepts a Loom token as Bearer and as the Basic password (MLflow clients)', async () => {
    const { secret } = await tokens.createToken({ subject: 'alice', role: 'editor', createdBy: 'root' });
    const resolve = createPrincipalResolver({ tokens });
    assert.equal((await resolve({ authorization: `Bearer ${secret}` })).subject, 'alice');
    assert.equal((await resolve({ authorization: `bearer ${secret}` })).role, 'editor');
    const basic = Buffer.from(`whoever:${secret}`).toString('base64');
    assert.equal((await resolve({ authorization: `Basic ${basic}` })).subject, 'alice');
  });

  it('refuses missing, malformed and unknown credentials when not open', async () => {
    const resolve = createPrincipalResolver({ tokens });
    await rejectsWithCode(resolve({}), 'UNAUTHENTICATED');
    await rejectsWithCode(resolve({ 'x-loom-actor': 'ceo@company' }), 'UNAUTHENTICATED');
    await rejectsWithCode(resolve({ authorization: 'Token abc' }), 'UNAUTHENTICATED');
    await rejectsWithCode(resolve({ authorization: 'Bearer a.b.c' }), 'UNAUTHENTICATED');
    await rejectsWithCode(resolve({ authorization: `Bearer loom_pat_${'A'.repeat(43)}` }), 'UNAUTHENTICATED');
  });

  it('hands JWT-shaped credentials to the JWT verifier when one is configured', async () => {
    const seen: string[] = [];
    const resolve = createPrincipalResolver({ tokens, jwt: async (token) => (seen.push(token), { subject: 'sso-user', role: 'viewer', grants: [], source: 'jwt' }) });
    assert.equal((await resolve({ authorization: 'Bearer h.p.s' })).subject, 'sso-user');
    assert.deepEqual(seen, ['h.p.s']);
  });

  it('runs open only when told: an unauthenticated admin named by X-Loom-Actor, but a bad token is still refused', async () => {
    const resolve = createPrincipalResolver({ tokens, open: { defaultSubject: 'mlflow-api' } });
    assert.deepEqual(await resolve({ 'x-loom-actor': 'ana' }), { subject: 'ana', role: 'admin', grants: [], source: 'open' });
    assert.equal((await resolve({ 'x-loom-actor': 'has space' })).subject, 'mlflow-api');
    assert.equal((await resolve({ 'x-loom-actor': '  ana  ' })).subject, 'ana', 'trimmed');
    assert.equal((await resolve({})).subject, 'mlflow-api', 'no header: the default subject');
    await rejectsWithCode(resolve({ authorization: `Bearer loom_pat_${'B'.repeat(43)}` }), 'UNAUTHENTICATED');
  });
});
