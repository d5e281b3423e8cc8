// The label store contract on both backends: a fresh SQLite file, and a fresh schema on the
// PostgreSQL test server (LOOM_TEST_POSTGRES_URL; skipped without it, failed in CI).
import { openFreshKysely, postgresTestUrl } from '../../test/support/databases.js';
import { KyselyLabelStore } from './kysely-label-store.js';
import { describeLabelStoreContract } from './label-store.contract.js';

async function make(url?: string) {
  const fresh = await openFreshKysely(url);
  return { labels: new KyselyLabelStore(fresh.db), close: fresh.close };
}

describeLabelStoreContract('sqlite', () => make());
const url = postgresTestUrl('label store contract');
if (url) describeLabelStoreContract('postgres', () => make(url));
