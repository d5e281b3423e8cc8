import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorize, isAllowed } from './authorize.js';
import type { ModelGrant, Principal, Role } from './types.js';

const as = (role: Role, grants: ModelGrant[] = []): Principal => ({ subject: `${role}-user`, role, grants, source: 'token' });

describe('authorize', () => {
  it('gives each role its defaults', () => {
    const table: [Role, string[]][] = [
      ['viewer', ['read', 'predict']],
      ['editor', ['read', 'write', 'alias.move', 'alias.approve', 'deploy', 'predict']],
      ['admin', ['read', 'write', 'alias.move', 'alias.approve', 'deploy', 'predict', 'model.admin', 'token.admin', 'audit.read']],
    ];
    const all = ['read', 'write', 'alias.move', 'alias.approve', 'deploy', 'predict', 'model.admin', 'token.admin', 'audit.read'] as const;
    for (const [role, allowed] of table) {
      for (const action of all) assert.equal(isAllowed(as(role), action, { model: 'flights', alias: 'champion' }), allowed.includes(action), `${role} ${action}`);
    }
  });

  it('lets per-model grants decide the model actions of the models they name', () => {
    const reviewer = as('viewer', [{ model: 'flights', actions: ['alias.approve'], aliases: ['champion'] }]);
    assert.ok(isAllowed(reviewer, 'alias.approve', { model: 'flights', alias: 'champion' }));
    assert.ok(!isAllowed(reviewer, 'alias.approve', { model: 'flights', alias: 'staging' }));
    assert.ok(!isAllowed(reviewer, 'alias.approve', { model: 'taxis', alias: 'champion' }), 'other models keep the role defaults');
    assert.ok(!isAllowed(reviewer, 'write', { model: 'flights' }), 'grants never give non-model actions');

    const stagingOnly = as('editor', [{ model: 'flights', actions: ['alias.move'], aliases: ['staging'] }]);
    assert.ok(isAllowed(stagingOnly, 'alias.move', { model: 'flights', alias: 'staging' }));
    assert.ok(!isAllowed(stagingOnly, 'alias.move', { model: 'flights', alias: 'champion' }));
    assert.ok(!isAllowed(stagingOnly, 'deploy', { model: 'flights' }), 'a model in the grants gets only what they list');
    assert.ok(isAllowed(stagingOnly, 'deploy', { model: 'taxis' }));
    assert.ok(isAllowed(stagingOnly, 'write', { model: 'flights' }));
    assert.ok(!isAllowed(stagingOnly, 'predict', { model: 'flights' }), 'predicting a model named in the grants needs a predict grant');

    const scorer = as('viewer', [{ model: 'flights', actions: ['predict'], aliases: ['staging'] }]);
    assert.ok(isAllowed(scorer, 'predict', { model: 'flights' }), 'aliases narrow only the alias actions');
    assert.ok(!isAllowed(scorer, 'alias.move', { model: 'flights', alias: 'staging' }));
  });

  it('throws PERMISSION_DENIED naming the principal, action and resource', () => {
    assert.throws(() => authorize(as('viewer'), 'alias.move', { model: 'flights', alias: 'champion' }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'PERMISSION_DENIED');
      assert.match(error.message, /viewer-user .*alias\.move.*flights@champion/);
      return true;
    });
    assert.doesNotThrow(() => authorize(as('admin'), 'token.admin'));
  });
});
