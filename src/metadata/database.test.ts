import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLoomError } from '../core/errors.js';
import { rejectsWithCode } from './contract-helpers.js';
import { databaseConfigFromEnv, openDatabase, type DatabaseConfig } from './database.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'loom-db-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the environment picks SQLite under the project, or PostgreSQL from LOOM_DATABASE_URL', () => {
  assert.deepEqual(databaseConfigFromEnv('/p', {}), { kind: 'sqlite', path: join('/p', '.loom', 'loom.db') });
  assert.deepEqual(databaseConfigFromEnv('/p', { LOOM_DATABASE_URL: 'postgres://u:pw@db:5432/loom' }), {
    kind: 'postgres',
    url: 'postgres://u:pw@db:5432/loom',
  });
  for (const bad of ['mysql://db/loom', 'db:5432', 'postgres://']) {
    assert.throws(
      () => databaseConfigFromEnv('/p', { LOOM_DATABASE_URL: bad }),
      (e: unknown) => isLoomError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'LOOM_DATABASE_URL' && !!e.fix,
    );
  }
});

test('a bad config is INVALID_ARGUMENT and an unreachable server UNAVAILABLE', async () => {
  await rejectsWithCode(openDatabase({ kind: 'postgres', url: 'http://x' }), 'INVALID_ARGUMENT');
  await rejectsWithCode(openDatabase({ kind: 'sqlite', path: '' }), 'INVALID_ARGUMENT');
  await rejectsWithCode(openDatabase({ kind: 'oracle' } as unknown as DatabaseConfig), 'INVALID_ARGUMENT');
  // Port 1 on localhost: nothing listens there.
  await rejectsWithCode(openDatabase({ kind: 'postgres', url: 'postgres://loom@127.0.0.1:1/loom' }), 'UNAVAILABLE');
});

test('SQLite makes its folder, keeps data across opens, and shares one connection per file', async (t) => {
  const path = join(tempDir(t), 'nested', 'deeper', 'loom.db');
  const [a, b] = await Promise.all([openDatabase({ kind: 'sqlite', path }), openDatabase({ kind: 'sqlite', path })]);
  assert.ok(existsSync(path));
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
  const again = await openDatabase({ kind: 'sqlite', path });
  assert.equal((await again.registry.getRegisteredModel('m'))?.latestVersion, 2);
  await again.metadata.close();
});
