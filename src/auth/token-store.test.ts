// The token store contract on both backends: a fresh SQLite file, and a fresh schema on the
// PostgreSQL test server (LOOM_TEST_POSTGRES_URL; skipped without it, failed in CI).
import { openFreshKysely, postgresTestUrl } from '../../test/support/databases.js';
import { KyselyTokenStore } from './kysely-token-store.js';
import { describeTokenStoreContract } from './token-store.contract.js';

async function make(url?: string) {
  const fresh = await openFreshKysely(url);
  return { tokens: new KyselyTokenStore(fresh.db), close: fresh.close };
}

describeTokenStoreContract('sqlite', () => make());
const url = postgresTestUrl('token store contract');
if (url) describeTokenStoreContract('postgres', () => make(url));
