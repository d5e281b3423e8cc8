// A change and its audit entry commit together, on both backends: when the entry cannot be
// written (the database refuses the insert, as a full disk or a revoked grant would) the
// change is rolled back, and a change that fails half-way records nothing and leaves nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openFreshKysely, postgresTestUrl, type FreshKysely } from '../../test/support/databases.js';
import type { Principal } from '../auth/types.js';
import { LoomError } from '../core/errors.js';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { KyselyRegistryStore } from '../registry/kysely-registry-store.js';
import { GuardedRegistry } from './guarded-registry.js';
import { KyselyAuditLog } from './kysely-audit-log.js';

const root: Principal = { subject: 'root', role: 'admin', grants: [], source: 'token' };

/** Makes the database refuse new audit entries, as only a broken database would. */
async function refuseAuditInserts(fresh: FreshKysely): Promise<void> {
  if (fresh.dialect === 'sqlite') {
    await sql`create trigger audit_log_refuse before insert on audit_log begin select raise(abort, 'no space left on device'); end`.execute(fresh.db);
  } else {
    await sql`create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'no space left on device'; end $$`.execute(fresh.db);
    await sql`create trigger audit_log_refuse before insert on audit_log for each row execute function refuse_audit()`.execute(fresh.db);
  }
}

function describeAtomicity(backend: string, url?: string): void {
  describe(`recorded changes are atomic: ${backend}`, () => {
    it('a change whose audit entry cannot be written is rolled back', async () => {
      const fresh = await openFreshKysely(url);
      try {
        const store = new KyselyRegistryStore(fresh.db, async () => {});
        const audit = new KyselyAuditLog(fresh.db, fresh.dialect);
        const registry = new GuardedRegistry(store, { principal: root, address: 'cli', audit });
        await registry.createRegisteredModel({ name: 'flights' });
        await registry.createModelVersion({ modelName: 'flights', source: 's1' });
        await registry.createModelVersion({ modelName: 'flights', source: 's2' });
        await registry.setAlias('flights', 'champion', 1, { actor: 'root', reason: '' });
        await refuseAuditInserts(fresh);

        const failed = await registry.setAlias('flights', 'champion', 2, { actor: 'root', reason: 'better' }).catch((e: unknown) => e);
        assert.ok(failed instanceof LoomError && failed.code === 'INTERNAL', String(failed));
        assert.match(failed.message, /alias\.set on flights@champion was not made/);
        assert.equal((await store.getVersionByAlias('flights', 'champion'))?.version, 1);
        assert.deepEqual((await store.aliasHistory('flights', 'champion')).map((m) => m.version), [1]);

        await rejectsWithCode(registry.createModelVersion({ modelName: 'flights', source: 's3' }), 'INTERNAL');
        assert.equal((await store.getRegisteredModel('flights'))?.latestVersion, 2, 'the version number was not used up');
        await rejectsWithCode(registry.deleteModelVersion('flights', 2), 'INTERNAL');
        assert.equal((await store.getModelVersion('flights', 2))?.source, 's2');
        assert.deepEqual([(await audit.verify()).checked, (await audit.verify()).ok], [4, true]);
      } finally {
        await fresh.close();
      }
    });

    it('a change that fails half-way records nothing and leaves none of its writes', async () => {
      const fresh = await openFreshKysely(url);
      try {
        const store = new KyselyRegistryStore(fresh.db, async () => {});
        const audit = new KyselyAuditLog(fresh.db, fresh.dialect);
        await store.createRegisteredModel({ name: 'flights' });
        const halfway = audit.record(
          async () => {
            await store.createModelVersion({ modelName: 'flights', source: 's1' });
            throw new LoomError('FAILED_PRECONDITION', 'the second half of the change was refused');
          },
          () => ({ actor: 'root', address: 'cli', action: 'version.create', model: 'flights', target: 'flights v1' }),
        );
        await rejectsWithCode(halfway, 'FAILED_PRECONDITION');
        assert.equal((await store.getModelVersion('flights', 1)), undefined);
        assert.equal((await audit.verify()).checked, 0);

        // Refused by the guard's own rules: nothing recorded either.
        const registry = new GuardedRegistry(store, { principal: root, address: 'cli', audit });
        await rejectsWithCode(registry.setAlias('flights', 'champion', 9, { actor: 'root', reason: '' }), 'NOT_FOUND');
        assert.equal((await audit.verify()).checked, 0);
      } finally {
        await fresh.close();
      }
    });
  });
}

describeAtomicity('sqlite');
const url = postgresTestUrl('recorded changes are atomic');
if (url) describeAtomicity('postgres', url);
