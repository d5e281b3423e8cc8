// `loom token`, `loom login` and `loom audit` as a user runs them: real child processes over
// a real project database, the tampering done with SQL on the database file itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { EXIT_CODE } from '../../core/errors.js';
import { LOOM_BIN, runCompiledLoom } from '../../../test/support/cli.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';

function loginWith(cwd: string, env: Record<string, string>, secret: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOOM_BIN, 'login'], { cwd, env: { ...process.env, LOOM_HOME: `${cwd}/.loom`, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(`${secret}\n`);
  });
}

test('loom token, login and audit: tokens shown once and checked, every change audited, tampering found', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const credentials = join(dir, 'home', '.config', 'loom', 'credentials.json');
  const env = { LOOM_CREDENTIALS_FILE: credentials };
  const loom = (args: string[], extra: Record<string, string> = {}) => runCompiledLoom(args, { cwd: dir, env: { ...env, ...extra } });
  await (await openTestPlatform(join(dir, '.loom'))).close();

  // The project's own login bootstraps the first admin token.
  const root = JSON.parse((await loom(['token', 'create', '--subject', 'root', '--role', 'admin', '--name', 'bootstrap', '--json'])).stdout) as { secret: string; token: { id: string } };
  assert.match(root.secret, /^loom_pat_/);
  const asRoot = { LOOM_TOKEN: root.secret };
  const made = await loom(['token', 'create', '--subject', 'ana', '--role', 'editor', '--grant', 'flights:alias.move:staging', '--expires', '7d'], asRoot);
  assert.equal(made.code, 0, made.stderr);
  const ana = made.stdout.trim();
  assert.match(ana, /^loom_pat_/);
  assert.match(made.stderr, /only time/);

  const denied = await loom(['token', 'ls'], { LOOM_TOKEN: ana });
  assert.equal(denied.code, EXIT_CODE.PERMISSION_DENIED, denied.stderr);
  const listed = JSON.parse((await loom(['token', 'ls', '--json'], asRoot)).stdout) as { items: { id: string; subject: string }[] };
  assert.deepEqual(listed.items.map((i) => i.subject).sort(), ['ana', 'root']);
  assert.ok(!JSON.stringify(listed).includes(ana.slice(9)), 'listings never show secrets');
  const bad = await loom(['token', 'create', '--subject', 'x', '--role', 'editor', '--grant', 'flights:delete'], asRoot);
  assert.equal(bad.code, EXIT_CODE.INVALID_ARGUMENT);

  // loom login keeps the token in a file only its owner can read, and the CLI then acts as ana.
  const login = await loginWith(dir, env, ana);
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /as ana \(editor\)/);
  assert.equal((await stat(credentials)).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(await readFile(credentials, 'utf8')), { default: ana });
  assert.equal((await loom(['audit'])).code, EXIT_CODE.PERMISSION_DENIED, 'the stored token (an editor) is used');

  const anaId = listed.items.find((i) => i.subject === 'ana')!.id;
  assert.equal((await loom(['token', 'revoke', anaId], asRoot)).code, 0);
  const revoked = await loom(['audit'], { LOOM_TOKEN: ana });
  assert.equal(revoked.code, EXIT_CODE.UNAUTHENTICATED, revoked.stderr);

  const log = JSON.parse((await loom(['audit', '--json'], asRoot)).stdout) as { items: { seq: number; action: string; actor: string; address: string }[] };
  assert.deepEqual(log.items.map((e) => [e.seq, e.action, e.actor]), [[3, 'token.revoke', 'root'], [2, 'token.create', 'root'], [1, 'token.create', log.items[2]!.actor]]);
  assert.match(log.items[0]!.address, /^cli@/);
  const verified = await loom(['audit', 'verify'], asRoot);
  assert.equal(verified.code, 0, verified.stderr);
  const anchor = /head (\d+:[0-9a-f]{64})/.exec(verified.stdout)![1]!;
  const exported = (await loom(['audit', 'export'], asRoot)).stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number });
  assert.deepEqual(exported.map((e) => e.seq), [1, 2, 3]);

  // Someone with the database file edits one entry and deletes another.
  const sqlite = new Database(join(dir, '.loom', 'loom.db'));
  sqlite.exec('drop trigger audit_log_no_update; drop trigger audit_log_no_delete');
  sqlite.exec("update audit_log set actor = 'nobody' where seq = 1; delete from audit_log where seq = 3");
  sqlite.close();
  const report = await loom(['audit', 'verify', '--json'], asRoot);
  assert.equal(report.code, EXIT_CODE.FAILED_PRECONDITION);
  assert.deepEqual((JSON.parse(report.stdout) as { problems: { kind: string; seq: number }[] }).problems.map((p) => [p.kind, p.seq]), [['tampered', 1]]);
  const anchored = await loom(['audit', 'verify', '--anchor', anchor], asRoot);
  assert.equal(anchored.code, EXIT_CODE.FAILED_PRECONDITION);
  assert.match(anchored.stderr, /entry 1 was changed/);
  assert.match(anchored.stderr, /3 .*missing/);
});
