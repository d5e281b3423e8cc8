// Outside a project, the commands that only read say which project they looked for and how
// to make one, and leave no `.loom` folder behind; `loom server` (which MLflow clients write
// through) and a bad LOOM_DATABASE_URL are checked as a user meets them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCompiledLoom } from '../../test/support/cli.js';
import { makeTempDir } from '../../test/support/flights.js';

const READ_ONLY = [['runs'], ['runs', 'show', 'abc'], ['models', 'ls'], ['models', 'versions', 'flights'], ['data', 'ls'], ['lineage', 'flights@champion'], ['track', 'ls'], ['deploy', 'ls'], ['serve', 'flights', '--workers', '1'], ['serve', 'flights', '--workers', '2']];

test('read-only commands outside a project fail with NOT_FOUND naming ./.loom or LOOM_HOME, and create nothing', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  for (const args of READ_ONLY) {
    // An empty LOOM_HOME counts as unset: the project looked for is ./.loom.
    const here = await runCompiledLoom(args, { cwd: dir, env: { LOOM_HOME: '' } });
    assert.equal(here.code, 3, `${args.join(' ')}: ${here.stderr}`);
    assert.match(here.stderr, new RegExp(`no Loom project at ${join(dir, '.loom')} \\(from \\./\\.loom in `), args.join(' '));
    assert.match(here.stderr, /run `loom init` here, or set LOOM_HOME/);
    assert.doesNotMatch(here.stderr, /\n\s+at /, 'no stack trace');
  }
  const elsewhere = await runCompiledLoom(['models', 'ls'], { cwd: dir, env: { LOOM_HOME: join(dir, 'p1') } });
  assert.equal(elsewhere.code, 3);
  assert.match(elsewhere.stderr, /from LOOM_HOME/);
  assert.equal(existsSync(join(dir, '.loom')), false);
  assert.equal(existsSync(join(dir, 'p1')), false);
});

test('a database URL no backend takes is INVALID_ARGUMENT naming LOOM_DATABASE_URL, before anything is opened', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const result = await runCompiledLoom(['models', 'ls'], { cwd: dir, env: { LOOM_DATABASE_URL: 'mysql://db/loom' } });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /LOOM_DATABASE_URL "mysql:\/\/db\/loom" has no database backend for "mysql:"/);
  assert.match(result.stderr, /postgres:\/\/USER/);
});
