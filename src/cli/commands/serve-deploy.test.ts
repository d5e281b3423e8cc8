import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LOOM_BIN, runCompiledLoom } from '../../../test/support/cli.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { buildServingRegistry } from '../../../test/support/serving-registry.js';

test('loom deploy set/ls/rollback, and loom serve --workers 2 follows deployments, aggregates metrics and drains on SIGTERM', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const reg = await buildServingRegistry(dir);
  const rows = reg.rows.slice(0, 2);
  const [v1, v2] = reg.good;
  await reg.close();
  const env = { LOOM_HOME: dir, LOOM_ACTOR: 'dana' };

  const set = await runCompiledLoom(['deploy', 'set', 'flights', '--version', String(v1), '--canary', `@${v2}`, '--weight', '0.25', '--reason', 'try v2', '--json'], { cwd: dir, env });
  assert.equal(set.code, 0, set.stderr);
  const deployment = JSON.parse(set.stdout) as { id: number; primary: string; canary: { ref: string; weight: number }; actor: string; reason: string };
  // LOOM_ACTOR is a claim: without a token the deployment is made as the login (docs/security.md).
  assert.deepEqual([deployment.primary, deployment.canary, deployment.actor, deployment.reason], [`flights@${v1}`, { ref: `flights@${v2}`, weight: 0.25 }, userInfo().username, 'try v2']);
  const bad = await runCompiledLoom(['deploy', 'set', 'flights', '--version', '1', '--weight', '2'], { cwd: dir, env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--weight/);

  const server = spawn(process.execPath, [LOOM_BIN, 'serve', 'flights', '--workers', '2', '--port', '0', '--watch-interval', '50'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  t.after(() => void server.kill('SIGKILL'));
  const deadline = Date.now() + 60_000;
  while (!/serving at (http:\/\/\S+) with 2 workers/.test(stderr)) {
    if (Date.now() > deadline || server.exitCode !== null) assert.fail(`server did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = /serving at (http:\/\/\S+)/.exec(stderr)![1]!;
  const infer = async (id: string) => {
    const response = await fetch(`${url}/v2/models/flights/infer`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify({ instances: rows }) });
    assert.equal(response.status, 200);
    return ((await response.json()) as { model_version: string }).model_version;
  };
  const versions = await Promise.all(Array.from({ length: 200 }, (_, i) => infer(`id-${i}`)));
  const canary = versions.filter((v) => v === String(v2)).length;
  assert.ok(canary > 20 && canary < 90, `${canary} of 200 answered by the canary`);
  // Both workers answered: the aggregated metrics count every request once.
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const counted = [...metrics.matchAll(/loom_serve_requests_total\{model="flights",version="\d+"\} (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  assert.equal(counted, 200 + 0, metrics.split('\n').filter((l) => l.startsWith('loom_serve_requests_total')).join('\n'));
  // Both workers load the same versions: the aggregated gauge says 1 for each, not 2.
  const loaded = [...metrics.matchAll(/^loom_serve_model_loaded\{[^}]*model="flights"[^}]*\} (\S+)$/gm)].map((m) => Number(m[1]));
  assert.ok(loaded.length >= 2 && loaded.every((value) => value === 1), metrics.split('\n').filter((l) => l.startsWith('loom_serve_model_loaded')).join('\n'));

  const ls = await runCompiledLoom(['deploy', 'ls', '--json'], { cwd: dir, env });
  assert.equal((JSON.parse(ls.stdout) as { items: { id: number }[] }).items[0]?.id, deployment.id);
  const promote = await runCompiledLoom(['deploy', 'set', 'flights', '--version', String(v2)], { cwd: dir, env });
  assert.equal(promote.code, 0, promote.stderr);
  const until = async (version: number) => {
    const end = Date.now() + 20_000;
    // Both workers must have switched: several answers in a row from the version.
    let streak = 0;
    while (streak < 20) {
      if (Date.now() > end) assert.fail(`servers did not switch to version ${version}`);
      streak = (await infer(`probe-${Date.now()}-${streak}`)) === String(version) ? streak + 1 : 0;
    }
  };
  await until(v2);
  const rollback = await runCompiledLoom(['deploy', 'rollback', 'flights', '--json'], { cwd: dir, env });
  assert.equal(rollback.code, 0, rollback.stderr);
  assert.equal((JSON.parse(rollback.stdout) as { canary: { weight: number } }).canary.weight, 0.25);
  const history = await runCompiledLoom(['deploy', 'history', 'flights', '--json'], { cwd: dir, env });
  assert.equal((JSON.parse(history.stdout) as { items: unknown[] }).items.length, 3);

  // SIGTERM: requests in flight finish, then every worker and the primary exit cleanly.
  const inFlight = Promise.all(Array.from({ length: 20 }, (_, i) => infer(`last-${i}`)));
  await new Promise((resolve) => setTimeout(resolve, 5));
  server.kill('SIGTERM');
  await inFlight;
  assert.equal(await exited, 0, stderr);
  const logged = (await readdir(join(dir, 'predictions'))).filter((name) => name.endsWith('.parquet'));
  assert.ok(logged.length >= 2, `each worker wrote its prediction log on shutdown: ${logged.join(', ')}`);
});
