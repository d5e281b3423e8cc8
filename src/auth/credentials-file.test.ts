import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { readCredentials, saveCredential } from './credentials-file.js';

test('credentials are kept per key in a file only its owner can read, and a readable file is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'loom-cred-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'config', 'loom', 'credentials.json');
  assert.deepEqual(await readCredentials(path), {});
  await saveCredential(path, 'default', 'loom_pat_one');
  await saveCredential(path, 'http://127.0.0.1:5000', 'loom_pat_two');
  await saveCredential(path, 'default', 'loom_pat_three');
  assert.deepEqual(await readCredentials(path), { default: 'loom_pat_three', 'http://127.0.0.1:5000': 'loom_pat_two' });
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'config', 'loom'))).mode & 0o777, 0o700);

  await chmod(path, 0o644);
  await rejectsWithCode(readCredentials(path), 'FAILED_PRECONDITION');
  await writeFile(path, 'not json', { mode: 0o600 });
  await chmod(path, 0o600);
  await rejectsWithCode(readCredentials(path), 'INVALID_ARGUMENT');
});
