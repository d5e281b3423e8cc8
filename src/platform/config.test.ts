import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isLoomError } from '../core/errors.js';
import { CONFIG_FILE, loadConfig } from './config.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'loom-config-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Asserts an INVALID_ARGUMENT naming `field`, with a fix. */
function invalid(field: string, message?: RegExp) {
  return (e: unknown) => isLoomError(e) && e.code === 'INVALID_ARGUMENT' && e.field === field && !!e.fix && (!message || message.test(e.message));
}

test('the environment picks SQLite under the project, or PostgreSQL from LOOM_DATABASE_URL', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(loadConfig({ env: {}, cwd: dir }).database, { url: `sqlite:${join(dir, '.loom', 'loom.db')}` });
  assert.deepEqual(loadConfig({ env: { LOOM_DATABASE_URL: 'postgres://u:pw@db:5432/loom' }, cwd: dir }).database, { url: 'postgres://u:pw@db:5432/loom' });
  // An empty variable counts as unset.
  assert.deepEqual(loadConfig({ env: { LOOM_DATABASE_URL: '' }, cwd: dir }).database, { url: `sqlite:${join(dir, '.loom', 'loom.db')}` });
  // A file path is an embedded database, relative to where the command runs.
  assert.deepEqual(loadConfig({ env: { LOOM_DATABASE_URL: 'data/my.db' }, cwd: dir }).database, { url: `sqlite:${join(dir, 'data', 'my.db')}` });
  for (const bad of ['mysql://db/loom', 'db:5432', 'postgres://']) {
    assert.throws(() => loadConfig({ env: { LOOM_DATABASE_URL: bad }, cwd: dir }), invalid('LOOM_DATABASE_URL'), bad);
  }
});

test('one layout decides where every file of the project lives, under ./.loom or LOOM_HOME', (t) => {
  const dir = tempDir(t);
  const config = loadConfig({ env: {}, cwd: dir });
  const home = join(dir, '.loom');
  assert.equal(config.home, home);
  assert.match(config.homeFrom, /\.\/\.loom/);
  assert.deepEqual(config.layout, {
    home,
    database: join(home, 'loom.db'),
    artifacts: join(home, 'artifacts'),
    runArtifacts: join(home, 'artifacts', 'tracking'),
    checkpoints: join(home, 'checkpoints'),
    predictions: join(home, 'predictions'),
    schemas: join(home, 'schemas'),
  });
  assert.equal(config.artifacts.url, pathToFileURL(join(home, 'artifacts')).href);
  const elsewhere = loadConfig({ env: { LOOM_HOME: 'projects/p1' }, cwd: dir });
  assert.equal(elsewhere.home, join(dir, 'projects', 'p1'));
  assert.equal(elsewhere.homeFrom, 'LOOM_HOME');
  assert.equal(elsewhere.layout.checkpoints, join(dir, 'projects', 'p1', 'checkpoints'));
});

test('loom.config.json sets the project, relative to its folder; the environment wins over it', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({
    home: 'state',
    database: { url: 'postgres://loom@db/loom', schema: 'team' },
    artifacts: 'shared/artifacts',
    duckdb: { memoryLimit: '1GB', threads: 2, tempDirectory: 'spill' },
    actor: 'ci-bot',
  }));
  const config = loadConfig({ env: { USER: 'someone' }, cwd: dir });
  assert.equal(config.configFile, join(dir, CONFIG_FILE));
  assert.equal(config.home, join(dir, 'state'));
  assert.deepEqual(config.database, { url: 'postgres://loom@db/loom', schema: 'team' });
  assert.equal(config.layout.artifacts, join(dir, 'shared', 'artifacts'));
  assert.equal(config.layout.runArtifacts, join(dir, 'shared', 'artifacts', 'tracking'));
  assert.equal(config.layout.database, join(dir, 'state', 'loom.db'));
  assert.deepEqual(config.duckdb, { memoryLimit: '1GB', threads: 2, tempDirectory: join(dir, 'spill') });
  assert.equal(config.actor, 'ci-bot');

  const overridden = loadConfig({ env: { LOOM_HOME: join(dir, 'other'), LOOM_DATABASE_URL: 'sqlite:x.db', LOOM_DUCKDB_THREADS: '3', LOOM_ACTOR: 'alice' }, cwd: dir });
  assert.equal(overridden.home, join(dir, 'other'));
  assert.deepEqual(overridden.database, { url: `sqlite:${join(dir, 'x.db')}` }, 'the environment names the whole database, schema included');
  assert.deepEqual(overridden.duckdb, { memoryLimit: '1GB', threads: 3, tempDirectory: join(dir, 'spill') });
  assert.equal(overridden.actor, 'alice');
});

test('the actor is LOOM_ACTOR, else the config file, else USER, else the login name', (t) => {
  const dir = tempDir(t);
  assert.equal(loadConfig({ env: { USER: 'bob' }, cwd: dir }).actor, 'bob');
  assert.equal(loadConfig({ env: { USER: 'bob', LOOM_ACTOR: 'alice' }, cwd: dir }).actor, 'alice');
  assert.ok(loadConfig({ env: {}, cwd: dir }).actor.length > 0);
});

test('the servers\' log level is LOOM_LOG_LEVEL, else the config file, else info; an unknown level names the variable or field', (t) => {
  const dir = tempDir(t);
  assert.equal(loadConfig({ env: {}, cwd: dir }).logLevel, 'info');
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ logLevel: 'warn' }));
  assert.equal(loadConfig({ env: {}, cwd: dir }).logLevel, 'warn');
  assert.equal(loadConfig({ env: { LOOM_LOG_LEVEL: 'DEBUG' }, cwd: dir }).logLevel, 'debug');
  assert.throws(() => loadConfig({ env: { LOOM_LOG_LEVEL: 'loud' }, cwd: dir }), invalid('LOOM_LOG_LEVEL', /not a log level/));
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ logLevel: 'verbose' }));
  assert.throws(() => loadConfig({ env: {}, cwd: dir }), invalid('logLevel'));
});

test('a value that cannot be used is INVALID_ARGUMENT naming the variable or the file field, with the fix', (t) => {
  const dir = tempDir(t);
  assert.throws(() => loadConfig({ env: { LOOM_DUCKDB_MEMORY_LIMIT: 'lots' }, cwd: dir }), invalid('LOOM_DUCKDB_MEMORY_LIMIT', /"lots" is not a memory size/));
  assert.throws(() => loadConfig({ env: { LOOM_DUCKDB_THREADS: 'many' }, cwd: dir }), invalid('LOOM_DUCKDB_THREADS'));
  assert.throws(() => loadConfig({ env: { LOOM_DUCKDB_THREADS: '0' }, cwd: dir }), invalid('LOOM_DUCKDB_THREADS'));
  assert.throws(() => loadConfig({ env: {}, cwd: dir, overrides: { database: { url: 'sqlite:a.db', schema: 'x' } } }), invalid('database'));

  writeFileSync(join(dir, CONFIG_FILE), '{ "home": ');
  assert.throws(() => loadConfig({ env: {}, cwd: dir }), invalid(CONFIG_FILE));
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ databse: 'x.db' }));
  assert.throws(() => loadConfig({ env: {}, cwd: dir }), invalid('databse'));
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ duckdb: { threads: 1.5 } }));
  assert.throws(() => loadConfig({ env: {}, cwd: dir }), invalid('duckdb.threads'));
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ artifacts: 's3://bucket/loom' }));
  assert.throws(() => loadConfig({ env: {}, cwd: dir }), (e: unknown) => isLoomError(e) && e.code === 'INVALID_ARGUMENT' && /artifacts/.test(e.field ?? '') && /no artifact store backend for "s3:"/.test(e.message));
});

test('the servers\' CORS origins and rate limits come from loom.config.json: off unless set, checked when read', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(loadConfig({ env: {}, cwd: dir }).http, { corsOrigins: [], rateLimit: {}, loadShedding: {} });
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ http: { corsOrigins: ['https://app.example.com', 'http://[::1]:3000'], rateLimit: { serve: { max: 100 } } } }));
  assert.deepEqual(loadConfig({ env: {}, cwd: dir }).http, { corsOrigins: ['https://app.example.com', 'http://[::1]:3000'], rateLimit: { serve: { max: 100, windowMs: 60_000 } }, loadShedding: {} });
  for (const origin of ['https://app.example.com/', '*', 'app.example.com', 'https://app.example.com/path']) {
    writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ http: { corsOrigins: [origin] } }));
    assert.throws(() => loadConfig({ env: {}, cwd: dir }), invalid('http.corsOrigins[0]'), origin);
  }
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ http: { rateLimit: { server: { max: 0 } } } }));
  assert.throws(() => loadConfig({ env: {}, cwd: dir }), invalid('http.rateLimit.server.max'));
});

test('loom serve answers gRPC only when serve.grpcPort is set; a port out of range names the field', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(loadConfig({ env: {}, cwd: dir }).serve, {});
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ serve: { grpcPort: 8081 } }));
  assert.deepEqual(loadConfig({ env: {}, cwd: dir }).serve, { grpcPort: 8081 });
  assert.deepEqual(loadConfig({ env: {}, cwd: dir, overrides: { serve: { grpcPort: 9001 } } }).serve, { grpcPort: 9001 });
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ serve: { grpcPort: 70000 } }));
  assert.throws(() => loadConfig({ env: {}, cwd: dir }), invalid('serve.grpcPort'));
});

test('loom server runs server.workers processes (default one); a count below 1 names the field', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(loadConfig({ env: {}, cwd: dir }).server, {});
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ server: { workers: 4 } }));
  assert.deepEqual(loadConfig({ env: {}, cwd: dir }).server, { workers: 4 });
  assert.deepEqual(loadConfig({ env: {}, cwd: dir, overrides: { server: { workers: 2 } } }).server, { workers: 2 });
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ server: { workers: 0 } }));
  assert.throws(() => loadConfig({ env: {}, cwd: dir }), invalid('server.workers'));
});
