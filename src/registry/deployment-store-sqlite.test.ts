// The deployment store contract on the embedded SQLite backend, one fresh file per test.
import { openFreshSqlite } from '../../test/support/databases.js';
import { describeDeploymentStoreContract } from './deployment-store.contract.js';

describeDeploymentStoreContract('sqlite', openFreshSqlite);
