/**
 * `loom … | head`: a reader that stops early closes the pipe, and the command must end
 * quietly (exit 0, nothing on stderr) instead of dying with an EPIPE stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LOOM_BIN } from '../../test/support/cli.js';

/** Runs loom with its stdout pipe already closed by the reader, as `| head` does once it has its lines. */
function runWithClosedStdout(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOOM_BIN, ...args], { cwd, env: { ...process.env, LOOM_HOME: join(cwd, '.loom') }, stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before the child has loaded, so its first write to stdout meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('a command whose reader has closed the pipe exits 0 without a stack trace', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'loom-epipe-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, '.loom'));
  for (const args of [['--help'], ['runs'], ['models', 'ls', '--json']]) {
    const result = await runWithClosedStdout(args, dir);
    assert.equal(result.stderr, '', `loom ${args.join(' ')} printed: ${result.stderr}`);
    assert.equal(result.code, 0, `loom ${args.join(' ')}`);
  }
});
