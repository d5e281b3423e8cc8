// The registry as a principal sees it, over a real database on both backends: writes are
// authorized, recorded under the authenticated subject (never the actor a caller claims),
// two-person approval needs two principals, and a deleted model's history stays in the log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openFreshKysely, postgresTestUrl } from '../../test/support/databases.js';
import type { Principal } from '../auth/types.js';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { KyselyRegistryStore } from '../registry/kysely-registry-store.js';
import type { ModelTombstone } from '../registry/types.js';
import type { AuditLog } from './audit-log.js';
import { GuardedRegistry } from './guarded-registry.js';
import { KyselyAuditLog } from './kysely-audit-log.js';

const person = (subject: string, role: Principal['role'], grants: Principal['grants'] = []): Principal => ({ subject, role, grants, source: 'token' });

async function withRegistry(url: string | undefined, body: (as: (p: Principal) => GuardedRegistry, audit: AuditLog) => Promise<void>): Promise<void> {
  const fresh = await openFreshKysely(url);
  try {
    const registry = new KyselyRegistryStore(fresh.db, async () => {});
    const audit = new KyselyAuditLog(fresh.db, fresh.dialect);
    await body((principal) => new GuardedRegistry(registry, { principal, address: '10.0.0.7', audit }), audit);
  } finally {
    await fresh.close();
  }
}

function describeGuard(backend: string, url?: string): void {
  describe(`GuardedRegistry: ${backend}`, () => {
    it('records an editor\'s changes under the editor\'s name, with address and before/after; refuses a viewer and records nothing', () =>
      withRegistry(url, async (as, audit) => {
        const ana = as(person('ana', 'editor'));
        await ana.createRegisteredModel({ name: 'flights' });
        await ana.createModelVersion({ modelName: 'flights', source: 's1' });
        await ana.createModelVersion({ modelName: 'flights', source: 's2' });
        await ana.setAlias('flights', 'champion', 1, { actor: 'ana', reason: 'first' });
        const move = await ana.setAlias('flights', 'champion', 2, { actor: 'ceo@company', reason: 'better' });
        assert.equal(move.actor, 'ana', 'the claimed actor is replaced by the principal');
        const [latest] = (await audit.list({ pageSize: 1 })).items;
        assert.deepEqual(
          [latest!.action, latest!.actor, latest!.address, latest!.target, latest!.reason, latest!.before, (latest!.after as { version: number }).version],
          ['alias.set', 'ana', '10.0.0.7', 'flights@champion', 'better', { version: 1 }, 2],
        );

        const viewer = as(person('vic', 'viewer'));
        await rejectsWithCode(viewer.setAlias('flights', 'champion', 1, { actor: 'vic', reason: '' }), 'PERMISSION_DENIED');
        await rejectsWithCode(viewer.createModelVersion({ modelName: 'flights', source: '/etc/passwd' }), 'PERMISSION_DENIED');
        await rejectsWithCode(ana.deleteModelVersion('flights', 1), 'PERMISSION_DENIED');
        assert.equal((await viewer.getVersionByAlias('flights', 'champion'))?.version, 2);
        assert.equal((await audit.list()).items.length, 5);
        assert.equal((await audit.verify()).ok, true);
      }));

    it('per-model grants limit which alias an editor may move', () =>
      withRegistry(url, async (as) => {
        const admin = as(person('root', 'admin'));
        await admin.createRegisteredModel({ name: 'flights' });
        await admin.createModelVersion({ modelName: 'flights', source: 's1' });
        const stager = as(person('sam', 'editor', [{ model: 'flights', actions: ['alias.move'], aliases: ['staging'] }]));
        assert.equal((await stager.setAlias('flights', 'staging', 1, { actor: 'sam', reason: '' })).actor, 'sam');
        await rejectsWithCode(stager.setAlias('flights', 'champion', 1, { actor: 'sam', reason: '' }), 'PERMISSION_DENIED');
      }));

    it('two-person approval needs two different authenticated principals', () =>
      withRegistry(url, async (as) => {
        const admin = as(person('root', 'admin'));
        await admin.createRegisteredModel({ name: 'flights' });
        await admin.createModelVersion({ modelName: 'flights', source: 's1' });
        await admin.setApprovalRule('flights', ['champion']);
        const bob = as(person('bob', 'editor'));
        const request = await bob.requestAliasMove('flights', 'champion', 1, { actor: 'bob', reason: 'ready' });
        // Bob again, claiming to be alice: the claim is replaced by his subject and refused.
        await rejectsWithCode(bob.approveAliasMove(request.id, { actor: 'alice', reason: '' }), 'FAILED_PRECONDITION');
        await rejectsWithCode(as(person('BOB', 'admin')).approveAliasMove(request.id, { actor: 'x', reason: '' }), 'FAILED_PRECONDITION');
        await rejectsWithCode(as({ subject: 'alice', role: 'admin', grants: [], source: 'open' }).approveAliasMove(request.id, { actor: 'alice', reason: '' }), 'PERMISSION_DENIED');
        await rejectsWithCode(as(person('val', 'viewer')).approveAliasMove(request.id, { actor: 'val', reason: '' }), 'PERMISSION_DENIED');
        const { move } = await as(person('alice', 'editor')).approveAliasMove(request.id, { actor: 'alice', reason: 'checked' });
        assert.deepEqual([move.actor, move.kind, move.version], ['alice', 'approved', 1]);
      }));

    it('renaming a protected model is refused; deleting a model keeps its whole history in the audit log', () =>
      withRegistry(url, async (as, audit) => {
        const admin = as(person('root', 'admin'));
        await admin.createRegisteredModel({ name: 'flights' });
        await admin.createModelVersion({ modelName: 'flights', source: 's1' });
        await admin.setAlias('flights', 'champion', 1, { actor: 'root', reason: '' });
        await admin.setApprovalRule('flights', ['champion']);
        await rejectsWithCode(admin.renameRegisteredModel('flights', 'flights-old'), 'FAILED_PRECONDITION');
        await rejectsWithCode(as(person('ed', 'editor')).renameRegisteredModel('flights', 'x'), 'PERMISSION_DENIED');
        await admin.setApprovalRule('flights', []);
        await admin.deleteAlias('flights', 'champion', { actor: 'root', reason: 'retire' });
        await rejectsWithCode(as(person('ed', 'editor')).deleteRegisteredModel('flights'), 'PERMISSION_DENIED');
        await admin.deleteRegisteredModel('flights');
        assert.equal(await admin.getRegisteredModel('flights'), undefined);

        const history = (await audit.list({ model: 'flights' })).items;
        assert.deepEqual(history.map((e) => e.action), ['model.delete', 'alias.delete', 'model.approval-rule', 'model.approval-rule', 'alias.set', 'version.create', 'model.create']);
        const tombstone = history[0]!.before as unknown as ModelTombstone;
        assert.deepEqual(tombstone.aliasMoves.map((m) => [m.kind, m.version, m.actor]), [['set', 1, 'root'], ['delete', null, 'root']]);
        assert.deepEqual(tombstone.versions.map((v) => v.source), ['s1']);
        assert.deepEqual(history[0]!.after, { deletedAt: tombstone.deletedAt, deletedBy: 'root' });
        assert.deepEqual((await admin.modelTombstones('flights')).map((t) => t.deletedBy), ['root']);
      }));
  });
}

describeGuard('sqlite');
const url = postgresTestUrl('guarded registry');
if (url) describeGuard('postgres', url);
