// The tracking store contract on the embedded SQLite backend, one fresh file per test.
import { openFreshSqlite } from '../../test/support/databases.js';
import { describeTrackingStoreContract } from './store.contract.js';

describeTrackingStoreContract('sqlite', openFreshSqlite);
