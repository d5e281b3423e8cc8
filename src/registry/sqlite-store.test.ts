// The registry store contract on the embedded SQLite backend, one fresh file per test.
import { openFreshSqlite } from '../../test/support/databases.js';
import { describeRegistryStoreContract } from './store.contract.js';

describeRegistryStoreContract('sqlite', openFreshSqlite);
