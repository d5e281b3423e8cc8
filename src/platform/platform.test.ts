import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { isLoomError } from '../core/errors.js';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { dropSchema, postgresTestUrl, randomSchemaName, testConfig } from '../../test/support/databases.js';
import { loadConfig } from './config.js';
import { loomMigrations } from './migrate.js';
import { openPlatform, type Platform } from './platform.js';

const LEGACY_SQLITE = new URL('../../test/fixtures/loom-db-0005.sql', import.meta.url);
const LEGACY_POSTGRES = new URL('../../test/fixtures/loom-db-0005.postgres.sql', import.meta.url);
/** The migrations databases made before the stores were split have recorded, in order. */
const LEGACY_MIGRATIONS = ['0001_metadata', '0002_registry', '0003_registry_lifecycle', '0004_tracking', '0005_serving'];

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'loom-platform-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a bad database is INVALID_ARGUMENT and an unreachable server UNAVAILABLE', async (t) => {
  const dir = tempDir(t);
  for (const database of ['http://x', '', 'oracle://db/loom']) {
    assert.throws(() => testConfig(dir, { database }), (e: unknown) => isLoomError(e) && e.code === 'INVALID_ARGUMENT', database);
  }
  // Port 1 on localhost: nothing listens there.
  await rejectsWithCode(openPlatform(testConfig(dir, { database: 'postgres://loom@127.0.0.1:1/loom' }), { create: true }), 'UNAVAILABLE');
});

test('outside a project a read-only open is NOT_FOUND naming where it looked, and leaves no .loom behind', async (t) => {
  const dir = tempDir(t);
  const config = loadConfig({ env: {}, cwd: dir });
  await assert.rejects(openPlatform(config), (e: unknown) => {
    assert.ok(isLoomError(e) && e.code === 'NOT_FOUND');
    assert.match(e.message, new RegExp(`${join(dir, '.loom')}.*\\./\\.loom`));
    assert.match(e.fix ?? '', /loom init.*LOOM_HOME/);
    return true;
  });
  assert.equal(existsSync(join(dir, '.loom')), false);
  await assert.rejects(openPlatform(loadConfig({ env: { LOOM_HOME: join(dir, 'nowhere') }, cwd: dir })), (e: unknown) => isLoomError(e) && e.code === 'NOT_FOUND' && /from LOOM_HOME/.test(e.message));

  const made = await openPlatform(config, { create: true });
  await made.close();
  assert.ok(existsSync(join(dir, '.loom', 'loom.db')));
  const again = await openPlatform(config);
  assert.deepEqual(await again.registry.listRegisteredModels({}).then((p) => p.items), []);
  await again.close();
});

test('SQLite makes its folder, keeps data across opens, and shares one connection per file', async (t) => {
  const dir = tempDir(t);
  const config = testConfig(dir, { database: join(dir, 'nested', 'deeper', 'loom.db') });
  const [a, b] = await Promise.all([openPlatform(config, { create: true }), openPlatform(config, { create: true })]);
  assert.ok(existsSync(join(dir, 'nested', 'deeper', 'loom.db')));
  await a.registry.createRegisteredModel({ name: 'm' });
  // A transaction on one handle and a write on the other interleave without blocking each other.
  await Promise.all([
    a.registry.createModelVersion({ modelName: 'm', source: 's' }),
    b.registry.createModelVersion({ modelName: 'm', source: 's' }),
  ]);
  await a.close();
  assert.equal((await b.registry.getRegisteredModel('m'))?.latestVersion, 2);
  await b.close();
  await b.close();
  const again = await openPlatform(config);
  assert.equal((await again.registry.getRegisteredModel('m'))?.latestVersion, 2);
  await again.metadata.close();
});

test('every store declares its migrations; together they keep the names existing databases recorded, in order', () => {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const names = Object.keys(loomMigrations(dialect));
    assert.deepEqual(names.slice(0, LEGACY_MIGRATIONS.length), LEGACY_MIGRATIONS);
    assert.deepEqual(names, [...names].sort());
  }
  const twice = () => ({ '0001_metadata': { async up() {} } });
  assert.throws(() => loomMigrations('sqlite', [twice, twice]), (e: unknown) => isLoomError(e) && e.code === 'INTERNAL');
});

/** Reads back what the old code wrote into the fixture, then writes more through every store. */
async function checkLegacyData(platform: Platform): Promise<void> {
  const champion = await platform.registry.getVersionByAlias('flights', 'champion');
  assert.equal(champion?.version, 1);
  // The old code stored dataVersions, transformUri and modelUri (always empty); only today's fields are read.
  assert.deepEqual(champion?.lineage, { evaluationUri: null, blessed: null });
  const [artifact] = await platform.metadata.getArtifacts([champion!.artifactId!]);
  assert.equal(artifact?.uri, 'loom-artifact://sha256/abc');
  assert.equal((await platform.deployments.getDeployment('flights'))?.primary, 'flights@champion');
  const runs = await platform.tracking.searchRuns({ experimentIds: ['0'] });
  assert.equal(runs.items.length, 1);
  assert.equal(runs.items[0]!.data.params.lr, '0.1');
  assert.equal(runs.items[0]!.data.metrics.find((m) => m.key === 'auc')?.value, 0.8);

  const v2 = await platform.registry.createModelVersion({ modelName: 'flights', source: 'loom-artifact://sha256/def', status: 'READY' });
  assert.equal(v2.version, 2);
  const deployed = await platform.deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion', canary: { ref: 'flights@2', weight: 0.1 } }, { actor: 'bob', reason: 'canary' });
  assert.equal(deployed.replacesId, 1);
  await assert.rejects(platform.registry.deleteModelVersion('flights', 2), (e: unknown) => isLoomError(e) && e.code === 'FAILED_PRECONDITION');
}

test('a SQLite database made before the stores were split opens, migrates and keeps its data', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, '.loom'));
  const legacy = new Database(join(dir, '.loom', 'loom.db'));
  legacy.exec(readFileSync(LEGACY_SQLITE, 'utf8'));
  legacy.close();
  const platform = await openPlatform(testConfig(join(dir, '.loom')));
  try {
    await checkLegacyData(platform);
  } finally {
    await platform.close();
  }
  const db = new Database(join(dir, '.loom', 'loom.db'), { readonly: true });
  const recorded = (db.prepare('select name from loom_migration order by name').all() as { name: string }[]).map((r) => r.name);
  db.close();
  assert.deepEqual(recorded, Object.keys(loomMigrations('sqlite')));
});

const url = postgresTestUrl('legacy PostgreSQL database');
if (url) {
  test('a PostgreSQL database made before the stores were split opens, migrates and keeps its data', async (t) => {
    const dir = tempDir(t);
    const schema = randomSchemaName();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(readFileSync(LEGACY_POSTGRES, 'utf8').replaceAll('__SCHEMA__', schema));
      const platform = await openPlatform(testConfig(dir, { database: { url, schema } }));
      try {
        await checkLegacyData(platform);
      } finally {
        await platform.close();
      }
      const recorded = await client.query(`select name from "${schema}".loom_migration order by name`);
      assert.deepEqual(recorded.rows.map((r: { name: string }) => r.name), Object.keys(loomMigrations('postgres')));
      // The prediction log table the old 0005_serving made is still there, now serving's own.
      const table = await client.query(`select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name = 'prediction_log'`, [schema]);
      assert.equal(table.rows[0].n, 1);
    } finally {
      await client.end();
      await dropSchema(url, schema);
    }
  });
}
