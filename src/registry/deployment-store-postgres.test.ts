// The deployment store contract on PostgreSQL, one fresh schema per test (dropped after).
// Needs LOOM_TEST_POSTGRES_URL, which `npm test` sets; skipped without it, failed in CI.
import { openFreshPostgres, postgresTestUrl } from '../../test/support/databases.js';
import { describeDeploymentStoreContract } from './deployment-store.contract.js';

const url = postgresTestUrl('deployment store contract');
if (url) describeDeploymentStoreContract('postgres', () => openFreshPostgres(url));
