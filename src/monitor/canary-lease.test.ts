// The canary lease contract on SQLite and, with LOOM_TEST_POSTGRES_URL, on PostgreSQL (one fresh
// database each test; on PostgreSQL every store gets a connection pool of its own).
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
