import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { test } from 'node:test';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir } from '../../test/support/flights.js';
import { LoomError } from '../core/errors.js';
import { RecordPacker, type PackedBatch } from './prediction-log-pack.js';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';

/** `count` one-row records of the demo model's shape, packed as one batch. */
function batchOf(count: number, from = 0): PackedBatch {
  const packer = new RecordPacker();
  for (let i = from; i < from + count; i++) {
    packer.add({
      requestId: `r${i}`,
      modelName: 'flights',
      modelVersion: 1,
      role: 'primary',
      protocol: 'v2',
      inputNames: ['hour', 'origin'],
      rows: { rowCount: 1, columns: [[i % 24], [i % 2 ? 'SFO' : 'ORD']] },
      outputs: [{ name: 'probability', type: 'float32', shape: [1, 1], data: [(i % 100) / 100] }],
      latencyMs: 0.5,
      at: 1_700_000_000_000 + i,
    });
  }
  return packer.take();
}

/** The niceness of each thread of a process (Linux: field 19 of /proc/<pid>/task/<tid>/stat). */
async function threadNiceness(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`);
  return Promise.all(
    tasks.map(async (tid) => {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    }),
  );
}

async function countRows(files: string[]): Promise<number> {
  const [row] = await withDuckDB((db) => queryRows(db, `SELECT count(*)::INTEGER AS n FROM read_parquet([${files.map(sqlString).join(', ')}])`));
  return Number(row!.n);
}

/** Waits until `ready()` holds (conversions in another process finish in their own time). */
async function until(ready: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !ready(); await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() - started > 120_000) throw new Error(`timed out waiting for ${what}`);
  }
}

test('with processNice, rotations no caller waits for run in a process of their own whose every thread has that niceness; the file and its profile are written', { skip: process.platform !== 'linux' && 'reads /proc' }, async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const files: string[] = [];
  const writer = new ParquetSpoolWriter(dir, { processNice: 19, rotateRows: 500, idleMs: 600_000, rotateMs: 600_000, onFile: (path) => void files.push(path) });
  t.after(() => writer.close());
  // Full at 500 rows: finished in the background.
  assert.equal(await writer.writeBatch(batchOf(500)), 500);
  await until(() => files.length === 1, 'the first file');
  const pid = writer.converterPid;
  assert.ok(pid !== undefined && pid !== process.pid);
  const niceness = await threadNiceness(pid);
  assert.ok(niceness.length > 1, 'DuckDB and libuv threads are there');
  assert.deepEqual([...new Set(niceness)], [19], 'every thread inherits the priority');
  assert.equal(await countRows(files), 500);
  assert.ok((await readdir(dir)).includes(basename(files[0]!).replace(/\.parquet$/, '.profile')), 'its profile is beside it');
  // The next background rotation goes to the same process; the last spool, at close, is converted here.
  await writer.writeBatch(batchOf(500, 500));
  await until(() => files.length === 2, 'the second file');
  assert.equal(writer.converterPid, pid);
  await writer.writeBatch(batchOf(10, 1000));
  await writer.close();
  assert.equal(files.length, 3);
  assert.equal(await countRows(files), 1010);
  assert.deepEqual(
    (await readdir(dir)).filter((name) => name.startsWith('.')),
    [],
    'no spool or temporary file left',
  );
});

test('a converter process killed in a conversion: the conversion runs again in a new process; killed twice, it fails (INTERNAL, retryable, naming the spool), the spool stays, and the next start converts it', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const errors: unknown[] = [];
  const files: string[] = [];
  const options = { processNice: 0, rotateRows: 20_000, idleMs: 600_000, rotateMs: 600_000, onError: (error: unknown) => void errors.push(error), onFile: (path: string) => void files.push(path) };
  const writer = new ParquetSpoolWriter(dir, { ...options, token: 'killed' });
  /** Kills the converter process that runs now, once one does; its pid. */
  const killConverter = async (not?: number) => {
    await until(() => writer.converterPid !== undefined && writer.converterPid !== not, 'a converter process');
    const pid = writer.converterPid!;
    process.kill(pid, 'SIGKILL');
    return pid;
  };
  for (let b = 0; b < 10; b++) await writer.writeBatch(batchOf(2000, b * 2000));
  // The process starts when the conversion is sent; killed before it can finish (starting alone takes longer).
  const first = await killConverter();
  await until(() => files.length === 1, 'the file, from a second process');
  assert.notEqual(writer.converterPid, first);
  assert.deepEqual(errors, []);
  assert.equal(await countRows(files), 20_000);

  // The next spool's conversion is sent to a stopped process, which is then killed; so is the process of its second attempt.
  const second = writer.converterPid!;
  process.kill(second, 'SIGSTOP');
  for (let b = 0; b < 10; b++) await writer.writeBatch(batchOf(2000, 100_000 + b * 2000));
  process.kill(second, 'SIGKILL');
  await killConverter(second);
  await until(() => errors.length === 1, 'the failure');
  const error = errors[0] as unknown;
  assert.ok(error instanceof LoomError && error.code === 'INTERNAL' && error.retryable, String(error));
  assert.match(error.message, /converter process exited \(SIGKILL\)/);
  assert.match(error.message, /\.spool-\d+-killed-1-/);
  assert.equal((await readdir(dir)).filter((name) => name.endsWith('.wire')).length, 1, 'the spool stays');
  assert.equal(files.length, 1);
  await writer.close();

  // The next start (this process's writer of that token is gone) converts the kept spool.
  const recovering = new ParquetSpoolWriter(dir, options);
  const recovered = await recovering.recover(['killed']);
  await recovering.close();
  assert.equal(recovered.length, 1);
  assert.equal(await countRows(recovered), 20_000);
  assert.deepEqual(
    (await readdir(dir)).filter((name) => name.startsWith('.')),
    [],
    'no spool, text or temporary file left',
  );
});
