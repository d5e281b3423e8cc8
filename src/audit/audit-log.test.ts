// The audit log contract on both backends: a fresh SQLite file, and a fresh schema on the
// PostgreSQL test server (LOOM_TEST_POSTGRES_URL; skipped without it, failed in CI).
import { sql } from 'kysely';
import { openFreshKysely, postgresTestUrl } from '../../test/support/databases.js';
import { describeAuditLogContract } from './audit-log.contract.js';
import { KyselyAuditLog } from './kysely-audit-log.js';

async function make(url?: string) {
  const fresh = await openFreshKysely(url);
  return {
    audit: new KyselyAuditLog(fresh.db, fresh.dialect),
    exec: async (statement: string) => void (await sql.raw(statement).execute(fresh.db)),
    dropGuards: url
      ? ['drop trigger audit_log_no_change on audit_log']
      : ['drop trigger audit_log_no_update', 'drop trigger audit_log_no_delete'],
    close: fresh.close,
  };
}

describeAuditLogContract('sqlite', () => make());
const url = postgresTestUrl('audit log contract');
if (url) describeAuditLogContract('postgres', () => make(url));
