// What a `loom` start loads before a command needs it: reading the configuration (every start)
// loads no database driver and no DuckDB, and opening a SQLite platform loads SQLite's driver
// alone (a command's project also imports the platform server, which brings PostgreSQL's).
// Run in a fresh process, since this one has loaded everything already. The native
// drivers are CommonJS, so the child's require cache shows which ones were loaded.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runProcess } from '../../test/support/cli.js';

const source = (path: string) => new URL(path, import.meta.url).href;

const PROBE = `
import { createRequire } from 'node:module';
const cache = createRequire(${JSON.stringify(source('./output.ts'))}).cache;
const loaded = () => [...new Set(Object.keys(cache).map((path) => /node_modules\\/(pg|better-sqlite3|@duckdb\\/[^/]+)\\//.exec(path)?.[1]).filter(Boolean))].sort();
await import(${JSON.stringify(source('./output.ts'))});
const { loadConfig } = await import(${JSON.stringify(source('../platform/config.ts'))});
loadConfig({ env: { LOOM_DATABASE_URL: 'postgres://loom@db.example/loom', LOOM_DUCKDB_MEMORY_LIMIT: '1GB' } });
loadConfig({ overrides: { database: { url: 'postgres://loom@db.example/loom', schema: 'loom' } } });
const afterConfig = loaded();
const { openPlatform } = await import(${JSON.stringify(source('../platform/platform.ts'))});
const platform = await openPlatform(loadConfig(), { create: true });
await platform.close();
console.log(JSON.stringify({ afterConfig, afterOpen: loaded() }));
`;

test('reading the configuration loads no database driver or DuckDB; opening a SQLite platform loads SQLite alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loom-startup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, USER: 'tester' };
  const result = await runProcess(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', PROBE], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { afterConfig: [], afterOpen: ['better-sqlite3'] });
});
