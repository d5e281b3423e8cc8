import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { openFreshKysely, postgresTestUrl } from '../../test/support/databases.js';
import { FIT_USE_TOUCH_MS, KyselyFitStore } from './fit-store.js';
import { describeFitStoreContract } from './fit-store.contract.js';
import type { MonitorFitTables } from './fit-store-tables.js';

async function make(url?: string) {
  const fresh = await openFreshKysely(url);
  return { fits: new KyselyFitStore(fresh.db as Kysely<MonitorFitTables>), close: () => fresh.close() };
}

describeFitStoreContract('sqlite', () => make());
const url = postgresTestUrl('fit store contract');
if (url) describeFitStoreContract('postgres', () => make(url));

test('a stored fit is still read when its use cannot be recorded (a database refusing writes): the use only orders eviction', async (t) => {
  const fresh = await openFreshKysely();
  t.after(() => fresh.close());
  const store = new KyselyFitStore(fresh.db as Kysely<MonitorFitTables>);
  const key = { kind: 'drift', model: 'flights', identity: '[1,"a"]', name: 'reconstruction' };
  await store.write(key, '{"format":1}', 1000);
  // A real refusal from the database, as a full disk or a lock held past the busy timeout gives.
  await sql`create trigger monitor_fit_refuse before update on monitor_fit begin select raise(abort, 'the database refuses writes'); end`.execute(fresh.db);
  await assert.rejects(store.touch(key, 1000 + FIT_USE_TOUCH_MS + 1), /refuses writes/);
  assert.deepEqual(await store.read(key, 1000 + FIT_USE_TOUCH_MS + 1), { payload: '{"format":1}', createdAt: 1000 });
});
