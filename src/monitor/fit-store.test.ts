import type { Kysely } from 'kysely';
import { openFreshKysely, postgresTestUrl } from '../../test/support/databases.js';
import { KyselyFitStore } from './fit-store.js';
import { describeFitStoreContract } from './fit-store.contract.js';
import type { MonitorFitTables } from './fit-store-tables.js';

async function make(url?: string) {
  const fresh = await openFreshKysely(url);
  return { fits: new KyselyFitStore(fresh.db as Kysely<MonitorFitTables>), close: () => fresh.close() };
}

describeFitStoreContract('sqlite', () => make());
const url = postgresTestUrl('fit store contract');
if (url) describeFitStoreContract('postgres', () => make(url));
