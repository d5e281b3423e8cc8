// The metadata store contract on the embedded SQLite backend, one fresh file per test.
import { openFreshSqlite } from '../../test/support/databases.js';
import { describeMetadataStoreContract } from './store.contract.js';

describeMetadataStoreContract('sqlite', openFreshSqlite);
