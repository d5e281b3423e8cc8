// Holding a canary lease (on SQLite): renewed while held, so it outlives its first expiry; a
// check that lost it learns who holds it now; releasing after a take-over leaves the new holder's lease.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { LoomError } from '../core/errors.js';
import { openFreshKysely } from '../../test/support/databases.js';
import { KyselyCanaryLeaseStore } from './canary-lease.js';
import type { CanaryLeaseTables } from './canary-lease-tables.js';
import { holdLease } from './canary-lease-holding.js';

async function leaseStore(t: { after: (fn: () => Promise<void>) => void }) {
  const fresh = await openFreshKysely();
  t.after(() => fresh.close());
  return new KyselyCanaryLeaseStore(fresh.db as Kysely<CanaryLeaseTables>);
}

test('a held lease is renewed while its check works, so another check cannot take it at its first expiry', async (t) => {
  const store = await leaseStore(t);
  const claim = await store.claim('flights', { ttlMs: 300 });
  assert.ok(claim.claimed);
  const held = holdLease(store, claim.lease, 300);
  try {
    await sleep(450);
    assert.ok((await store.getLease('flights'))!.expiresAt > claim.lease.expiresAt, 'renewed');
    assert.ok(!(await store.claim('flights', { ttlMs: 300, now: claim.lease.expiresAt + 1 })).claimed);
    assert.equal(await held.confirm(), undefined);
  } finally {
    await held.release();
  }
  assert.equal(await store.getLease('flights'), undefined);
});

test('a check whose lease was taken over learns who holds it, and its release leaves that lease', async (t) => {
  const store = await leaseStore(t);
  const claim = await store.claim('flights', { ttlMs: 60_000 });
  assert.ok(claim.claimed);
  const held = holdLease(store, claim.lease, 60_000);
  const other = await store.claim('flights', { ttlMs: 60_000, now: claim.lease.expiresAt });
  assert.ok(other.claimed);
  assert.deepEqual(await held.confirm(), other.lease);
  await held.release();
  assert.deepEqual(await store.getLease('flights'), other.lease);
  // The check that took it over has finished too: nobody holds it, and the stalled check is told it decided nothing.
  await store.release(other.lease);
  await assert.rejects(held.confirm(), (error: LoomError) => {
    assert.equal(error.code, 'FAILED_PRECONDITION');
    assert.match(error.message, /was taken over while it read the window/);
    return true;
  });
});
