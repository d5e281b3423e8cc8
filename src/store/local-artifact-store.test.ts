import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { LoomError } from '../core/errors.js';
import { makeTempDir } from '../../test/support/flights.js';
import { LocalArtifactStore } from './local-artifact-store.js';

async function stageFiles(store: LocalArtifactStore, files: Record<string, string>): Promise<string> {
  const dir = await store.stage();
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

test('a committed artifact is addressed by its content and readable', async (t) => {
  const store = new LocalArtifactStore(await makeTempDir(t.after.bind(t)));
  const staged = await stageFiles(store, { 'a.txt': 'alpha', 'sub/b.txt': 'beta' });
  const committed = await store.commit(staged);
  assert.match(committed.uri, /^loom-artifact:\/\/sha256\/[0-9a-f]{64}$/);
  assert.equal(committed.sizeBytes, 9);
  const path = await store.localPath(committed.uri);
  assert.equal(await readFile(join(path, 'sub/b.txt'), 'utf8'), 'beta');
  assert.equal(await store.exists(committed.uri), true);
});

test('equal content gives the same address and is stored once; different content does not', async (t) => {
  const root = await makeTempDir(t.after.bind(t));
  const store = new LocalArtifactStore(root);
  const first = await store.commit(await stageFiles(store, { 'x.json': '{"a":1}' }));
  const second = await store.commit(await stageFiles(store, { 'x.json': '{"a":1}' }));
  const third = await store.commit(await stageFiles(store, { 'x.json': '{"a":2}' }));
  const renamed = await store.commit(await stageFiles(store, { 'y.json': '{"a":1}' }));
  assert.equal(first.uri, second.uri);
  assert.notEqual(first.uri, third.uri);
  assert.notEqual(first.uri, renamed.uri, 'file names are part of the content');
  assert.equal((await readdir(join(root, 'objects', 'sha256'))).length, 3);
  assert.deepEqual(await readdir(join(root, 'staging')), [], 'no staging directory is left behind');
});

test('a discarded staging directory leaves nothing, and unknown URIs are refused with codes', async (t) => {
  const root = await makeTempDir(t.after.bind(t));
  const store = new LocalArtifactStore(root);
  await store.discard(await stageFiles(store, { 'half.bin': 'partial' }));
  assert.deepEqual(await readdir(join(root, 'staging')), []);
  await assert.rejects(store.localPath(`loom-artifact://sha256/${'0'.repeat(64)}`), (e: unknown) => e instanceof LoomError && e.code === 'NOT_FOUND');
  await assert.rejects(store.localPath('file:///etc/passwd'), (e: unknown) => e instanceof LoomError && e.code === 'INVALID_ARGUMENT');
});

test('staging left by a writer killed with SIGKILL is reclaimed; a live writer\'s staging is untouched', async (t) => {
  const root = await makeTempDir(t.after.bind(t));
  const store = new LocalArtifactStore(root);
  const live = await stageFiles(store, { 'part.bin': 'still being written' });
  // A real writer in another process: stages, writes, reports the directory, then is killed.
  const module = new URL('./local-artifact-store.ts', import.meta.url).href;
  const writer = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { writeFile } from 'node:fs/promises';
    import { join } from 'node:path';
    import { LocalArtifactStore } from ${JSON.stringify(module)};
    const dir = await new LocalArtifactStore(${JSON.stringify(root)}).stage();
    await writeFile(join(dir, 'big.bin'), Buffer.alloc(1 << 20));
    process.stdout.write(dir + '\\n');
    setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => writer.once('exit', resolve));
  const [line] = (await once(createInterface({ input: writer.stdout! }), 'line')) as [string];
  assert.equal((await readFile(join(line, 'big.bin'))).length, 1 << 20);
  assert.deepEqual(await store.reclaimAbandonedStaging(), [], 'nothing is reclaimed while its writer lives');
  writer.kill('SIGKILL');
  await exited;

  assert.deepEqual(await store.reclaimAbandonedStaging(), [dirname(line)]);
  assert.deepEqual((await readdir(join(root, 'staging'))).sort(), [basename(dirname(live))]);
  assert.equal(await readFile(join(live, 'part.bin'), 'utf8'), 'still being written');
  const committed = await store.commit(live);
  assert.equal(committed.sizeBytes, 'still being written'.length, 'the owner file is not part of the content');
  assert.deepEqual(await readdir(join(root, 'staging')), []);
});
