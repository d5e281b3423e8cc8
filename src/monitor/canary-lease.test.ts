// The canary lease contract on SQLite and, with LOOM_TEST_POSTGRES_URL, on PostgreSQL (one fresh
// database each test; on PostgreSQL every store gets a connection pool of its own).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { openFreshKysely, postgresTestUrl } from '../../test/support/databases.js';
import { createPostgresKysely } from '../platform/postgres-backend.js';
import { KyselyCanaryLeaseStore } from './canary-lease.js';
import type { CanaryLeaseTables } from './canary-lease-tables.js';
import { describeCanaryLeaseContract } from './canary-lease.contract.js';

async function make(count: number, url?: string) {
  const fresh = await openFreshKysely(url);
  // SQLite: one process shares one connection per file (sqlite-backend.ts), so its stores share it too.
  const extra = url ? await Promise.all(Array.from({ length: count - 1 }, () => createPostgresKysely(url, fresh.schema))) : [];
  const dbs = [fresh.db, ...(url ? extra : Array.from({ length: count - 1 }, () => fresh.db))];
  return {
    stores: dbs.map((db) => new KyselyCanaryLeaseStore(db as Kysely<CanaryLeaseTables>)),
    close: async () => {
      await Promise.all(extra.map((db) => db.destroy()));
      await fresh.close();
    },
  };
}

describeCanaryLeaseContract('sqlite', (count) => make(count));
const url = postgresTestUrl('canary lease contract');
if (url) describeCanaryLeaseContract('postgres', (count) => make(count, url));

const MINUTE = 60_000;

test('on PostgreSQL a lease expires on the database clock: a client whose clock runs two minutes ahead cannot take a live lease over', { skip: !url }, async (t) => {
  const { stores, close } = await make(2, url);
  t.after(close);
  const held = await stores[0]!.claim('flights', { ttlMs: MINUTE });
  assert.ok(held.claimed);
  const realNow = Date.now.bind(Date);
  t.mock.method(Date, 'now', () => realNow() + 2 * MINUTE);
  const claim = await stores[1]!.claim('flights', { ttlMs: MINUTE });
  assert.ok(!claim.claimed, `a live lease was taken over by a client with a fast clock: ${JSON.stringify(claim)}`);
  assert.ok(await stores[0]!.renew(held.lease, MINUTE), 'its holder still holds it');
});
