// A version the live deployment pins by number is in use: it cannot be archived or
// deleted until serving is deployed elsewhere (serving's deployment history, same database);
// and a deployment can pin only a version that can serve.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openFreshPostgres, openFreshSqlite, postgresTestUrl } from '../../test/support/databases.js';
import type { LoomDatabase } from '../pipeline/stores.js';
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

/** A deployment pins only versions that can serve, checked under the model's lock. */
async function checkPins(db: LoomDatabase): Promise<void> {
  const { registry, deployments } = db;
  await registry.createRegisteredModel({ name: 'flights' });
  for (let i = 0; i < 3; i++) await registry.createModelVersion({ modelName: 'flights', source: `s${i}` });
  await registry.deleteModelVersion('flights', 1);
  await registry.archiveModelVersion('flights', 2);
  await rejectsWithCode(deployments.setDeployment({ modelName: 'flights', primary: 'flights@1' }, who), 'NOT_FOUND');
  await rejectsWithCode(deployments.setDeployment({ modelName: 'flights', primary: 'flights@3', canary: { ref: 'flights@2', weight: 0.1 } }, who), 'FAILED_PRECONDITION');
  await rejectsWithCode(deployments.setDeployment({ modelName: 'trains', primary: 'trains@champion' }, who), 'NOT_FOUND');
  assert.equal(await deployments.getDeployment('flights'), undefined, 'a refused deployment writes nothing');

  // Rolling back to a deployment whose version was deleted since is refused too.
  await deployments.setDeployment({ modelName: 'flights', primary: 'flights@3' }, who);
  await deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion' }, who);
  await registry.deleteModelVersion('flights', 3);
  await rejectsWithCode(deployments.rollback('flights', who), 'NOT_FOUND');

  // Deleting a version while deploying it: exactly one of the two wins, every round.
  for (let round = 0; round < 8; round++) {
    const { version } = await registry.createModelVersion({ modelName: 'flights', source: `race-${round}` });
    const [deleted, deployed] = await Promise.allSettled([
      registry.deleteModelVersion('flights', version),
      deployments.setDeployment({ modelName: 'flights', primary: `flights@${version}` }, who),
    ]);
    assert.equal([deleted, deployed].filter((r) => r.status === 'fulfilled').length, 1, `round ${round}: ${deleted.status} delete, ${deployed.status} deploy`);
    const live = (await deployments.getDeployment('flights'))!;
    if (live.primary === `flights@${version}`) assert.ok(await registry.getModelVersion('flights', version), 'the live deployment points at an existing version');
    await deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion' }, who);
  }
}

test('a deployment pins only existing, READY, unarchived versions, even racing a delete (sqlite)', async () => {
  const db = await openFreshSqlite();
  try {
    await checkPins(db);
  } finally {
    await db.close();
  }
});

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
  test('a deployment pins only existing, READY, unarchived versions, even racing a delete (postgres)', async () => {
    const db = await openFreshPostgres(url);
    try {
      await checkPins(db);
    } finally {
      await db.close();
    }
  });
}
