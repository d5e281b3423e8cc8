/**
 * `loom serve` failures a new user meets, through the real command: a busy port exits 7
 * (UNAVAILABLE) with the default worker count, an empty registry exits 3, and every fix
 * (in the CLI and in the server's 404s) names something that exists: `loom serve name@alias`,
 * never a `--model` flag `loom serve` does not have.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { LOOM_BIN, runCompiledLoom } from '../../../test/support/cli.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { registeredModelProject } from '../../../test/support/registered-model.js';
import { exitCodeLines } from '../output.js';

test('the exit codes are listed in `loom --help` and the README, and a usage error exits 2', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const help = await runCompiledLoom(['--help'], { cwd: dir });
  assert.equal(help.code, 0);
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const lines = exitCodeLines();
  assert.deepEqual(lines.map((line) => Number(line.split(' ')[0])), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const line of lines) {
    assert.ok(help.stdout.includes(line), `loom --help lacks "${line}"`);
    const [code, meaning] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ')).trim()];
    assert.ok(readme.includes(`| ${code} | ${meaning} |`), `README lacks exit code ${code}: ${meaning}`);
  }
  const unknown = await runCompiledLoom(['--no-such-option'], { cwd: dir });
  assert.equal(unknown.code, 2, unknown.stderr);
});

test('loom serve on a busy port exits 7 with the default worker count, and 3 on an empty registry', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  await mkdir(join(dir, '.loom'));
  const empty = await runCompiledLoom(['serve', '--port', '0'], { cwd: dir });
  assert.equal(empty.code, 3, empty.stderr);
  assert.doesNotMatch(empty.stderr, /--model/);
  assert.match(empty.stderr, /loom serve name@alias/);

  const project = await registeredModelProject(dir);
  await project.db.close();
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => busy.close());
  const port = (busy.address() as AddressInfo).port;
  // No --workers: one per core, the case that used to exit 0.
  const result = await runCompiledLoom(['serve', '--port', String(port)], { cwd: dir });
  assert.equal(result.code, 7, result.stderr);
  assert.match(result.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
  assert.match(result.stderr, /--port/);
});

test("the model server's 404s suggest `loom serve name@...`, not a --model flag", async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await registeredModelProject(dir);
  await project.db.close();
  const server = spawn(process.execPath, [LOOM_BIN, 'serve', 'flights', '--workers', '1', '--port', '0', '--no-prediction-log'], { cwd: dir, env: { ...process.env, LOOM_HOME: project.home }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => server.on('exit', resolve));
  t.after(async () => {
    server.kill('SIGTERM');
    await exited;
  });
  while (!/serving at (http:\/\/\S+)/.test(stderr)) {
    if (server.exitCode !== null) assert.fail(`server did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = /serving at (http:\/\/\S+)/.exec(stderr)![1]!;
  for (const [path, fix] of [
    ['/v2/models/nosuch', /loom serve name@alias/],
    ['/v2/models/flights/versions/99', /loom serve flights@99/],
    ['/v1/models/flights/labels/staging', /loom serve flights@staging/],
  ] as const) {
    const response = await fetch(`${url}${path}`);
    const body = await response.text();
    assert.equal(response.status, 404, `${path}: ${body}`);
    assert.doesNotMatch(body, /--model/, path);
    assert.match(body, fix, path);
  }
});
