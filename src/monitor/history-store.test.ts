import type { Kysely } from 'kysely';
import { openFreshKysely, postgresTestUrl } from '../../test/support/databases.js';
import { KyselyMonitorHistory } from './history-store.js';
import { describeMonitorHistoryContract } from './history-store.contract.js';
import type { MonitorTables } from './history-tables.js';

async function make(url?: string) {
  const fresh = await openFreshKysely(url);
  return { history: new KyselyMonitorHistory(fresh.db as Kysely<MonitorTables>), close: () => fresh.close() };
}

describeMonitorHistoryContract('sqlite', () => make());
const url = postgresTestUrl('monitor history contract');
if (url) describeMonitorHistoryContract('postgres', () => make(url));
