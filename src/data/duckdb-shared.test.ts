import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows } from './duckdb.js';
import { IDLE_MS, sharedEngineCount, withSharedDuckDB } from './duckdb-shared.js';

const count = async (sql: string) => (await withSharedDuckDB(async (db) => Number((await queryRows(db, sql))[0]!.n)));

test('calls share one engine per settings, each on its own connection: temporary tables are the call\'s, a failed call leaves the engine usable', async () => {
  const before = sharedEngineCount();
  // A table in the engine's catalog (not temporary) is seen by a later call: the same engine.
  await withSharedDuckDB((db) => db.run('CREATE OR REPLACE TABLE shared_probe AS SELECT 42 AS n'));
  assert.equal(await count('SELECT n FROM shared_probe'), 42);
  assert.equal(sharedEngineCount(), before + 1);
  await withSharedDuckDB(async () => {}, { threads: 1 });
  assert.equal(sharedEngineCount(), before + 2, 'other settings, another engine');

  // Two calls at once: each one's temporary table is its own, under the same name.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const first = withSharedDuckDB(async (db) => {
    await db.run('CREATE TEMP TABLE mine AS SELECT 1 AS n');
    await held;
    return Number((await queryRows(db, 'SELECT n FROM mine'))[0]!.n);
  });
  const second = withSharedDuckDB(async (db) => {
    await db.run('CREATE TEMP TABLE mine AS SELECT 2 AS n');
    return Number((await queryRows(db, 'SELECT n FROM mine'))[0]!.n);
  });
  assert.equal(await second, 2);
  release();
  assert.equal(await first, 1);
  // Gone with their connections.
  await assert.rejects(count('SELECT n FROM mine'), /mine/);

  await assert.rejects(withSharedDuckDB(() => Promise.reject(new Error('the work failed'))), /the work failed/);
  assert.equal(await count('SELECT n FROM shared_probe'), 42, 'the engine still answers');
  await withSharedDuckDB((db) => db.run('DROP TABLE shared_probe'));
});

test('an engine no call has used for the idle time is closed, and the next call starts a new one', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const options = { threads: 2, memoryLimit: '300MB' };
  await withSharedDuckDB((db) => db.run('CREATE TABLE kept AS SELECT 1 AS n'), options);
  const open = sharedEngineCount();
  // The idle timer is set once the engine's start has settled.
  await new Promise((resolve) => setImmediate(resolve));
  t.mock.timers.tick(IDLE_MS - 1);
  assert.equal(sharedEngineCount(), open, 'still open before the idle time');
  t.mock.timers.tick(1);
  assert.equal(sharedEngineCount(), open - 1, 'closed after it');
  // A new engine: the old one's table went with it.
  const tables = await withSharedDuckDB(async (db) => Number((await queryRows(db, "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'kept'"))[0]!.n), options);
  assert.equal(tables, 0);
});
