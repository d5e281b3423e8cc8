// A version the live deployment pins by number is in use: it cannot be archived or
// deleted until serving is deployed elsewhere (serving's deployment history, same database).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openFreshPostgres, openFreshSqlite, postgresTestUrl } from '../../test/support/databases.js';
import type { LoomDatabase } from '../metadata/database.js';
import { rejectsWithCode } from '../metadata/contract-helpers.js';

const who = { actor: 'ops', reason: 'test' };

async function check(db: LoomDatabase): Promise<void> {
  const { registry, deployments } = db;
  await registry.createRegisteredModel({ name: 'flights' });
  for (let i = 0; i < 3; i++) await registry.createModelVersion({ modelName: 'flights', source: `s${i}` });
  await registry.setAlias('flights', 'champion', 1, who);
  const live = await deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion', canary: { ref: 'flights@2', weight: 0.1 }, shadow: 'flights@3' }, who);

  assert.deepEqual(await registry.isVersionInUse('flights', 2), { inUse: true, aliases: [], deployments: [`canary flights@2 (deployment ${live.id})`] });
  assert.deepEqual((await registry.isVersionInUse('flights', 1)).deployments, []);
  await rejectsWithCode(registry.deleteModelVersion('flights', 2), 'FAILED_PRECONDITION');
  await rejectsWithCode(registry.archiveModelVersion('flights', 3), 'FAILED_PRECONDITION');
  assert.equal((await registry.getModelVersion('flights', 2))?.archivedAt, null);

  // Only the live deployment counts: once it moves on, the old pins are free.
  await deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion' }, who);
  assert.equal((await registry.isVersionInUse('flights', 2)).inUse, false);
  await registry.deleteModelVersion('flights', 2);
  assert.ok((await registry.archiveModelVersion('flights', 3)).archivedAt !== null);
}

test('the live deployment keeps its pinned versions (sqlite)', async () => {
  const db = await openFreshSqlite();
  try {
    await check(db);
  } finally {
    await db.close();
  }
});

const url = postgresTestUrl('version in use');
if (url) {
  test('the live deployment keeps its pinned versions (postgres)', async () => {
    const db = await openFreshPostgres(url);
    try {
      await check(db);
    } finally {
      await db.close();
    }
  });
}
