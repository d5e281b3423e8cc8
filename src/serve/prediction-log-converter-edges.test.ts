/**
 * The converter process and the wire spool at their edges (from a review of the first version,
 * each of which failed these). A stopped process (SIGSTOP) stands for a niced converter starved
 * by busy cores: under load it gets ~1/65 of a core (CFS weight 15 vs 1024).
 */
import assert from 'node:assert/strict';
import { appendFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir } from '../../test/support/flights.js';
import { RecordPacker, type PackedBatch } from './prediction-log-pack.js';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 'resolved' or 'pending' after `ms`. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    sleep(ms).then(() => 'pending' as const),
  ]);
}

async function until(ready: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !ready(); await sleep(10)) if (Date.now() - started > 60_000) throw new Error(`timed out waiting for ${what}`);
}

async function untilAsync(ready: () => Promise<boolean>, what: string): Promise<void> {
  for (const started = Date.now(); !(await ready()); await sleep(5)) if (Date.now() - started > 60_000) throw new Error(`timed out waiting for ${what}`);
}

/** Lets a stopped process go on (it may have been killed since). */
function resume(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // Gone: killed after its grace.
  }
}

async function countRows(dir: string): Promise<number> {
  const [row] = await withDuckDB((db) => queryRows(db, `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(join(dir, '*.parquet'))})`));
  return Number(row!.n);
}

test('a write after an idle (or age) rotation does not wait for the converter process', { skip: process.platform === 'win32' && 'SIGSTOP' }, async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const files: string[] = [];
  const writer = new ParquetSpoolWriter(dir, { processNice: 19, rotateRows: 100, idleMs: 200, rotateMs: 600_000, onFile: (path) => void files.push(path) });
  await writer.writeBatch(batchOf(100));
  await until(() => files.length === 1, 'the first file');
  const pid = writer.converterPid!;
  process.kill(pid, 'SIGSTOP');
  try {
    await writer.writeBatch(batchOf(10, 100));
    await sleep(600); // the idle timer fires: the spool goes to the stopped process
    assert.equal(await settledWithin(writer.writeBatch(batchOf(10, 200)), 3000), 'resolved', 'a write must not wait for the starved process: under load the log would fill and drop rows');
  } finally {
    resume(pid);
    await writer.close();
  }
  assert.equal(await countRows(dir), 120);
});

test('writes queued behind recovery do not wait for the converter process', { skip: process.platform === 'win32' && 'SIGSTOP' }, async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const dead = new ParquetSpoolWriter(dir, { rotateRows: 1e9, idleMs: 600_000, rotateMs: 600_000 });
  await dead.writeBatch(batchOf(2000));
  const [spool] = (await readdir(dir)).filter((name) => name.endsWith('.wire'));
  await rename(join(dir, spool!), join(dir, spool!.replace(`-${process.pid}-`, '-999999-')));
  const writer = new ParquetSpoolWriter(dir, { processNice: 19, idleMs: 600_000, rotateMs: 600_000 });
  const recovering = writer.recover();
  await until(() => writer.converterPid !== undefined, 'the converter process');
  const pid = writer.converterPid!;
  process.kill(pid, 'SIGSTOP');
  try {
    assert.equal(await settledWithin(writer.writeBatch(batchOf(10, 5000)), 3000), 'resolved');
  } finally {
    resume(pid);
    await recovering;
    await writer.close();
  }
  assert.equal(await countRows(dir), 2010);
});

test('close() does not wait on a starved converter process (the last spool is converted on this thread)', { skip: process.platform === 'win32' && 'SIGSTOP' }, async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const files: string[] = [];
  const writer = new ParquetSpoolWriter(dir, { processNice: 19, rotateRows: 100, idleMs: 600_000, rotateMs: 600_000, onFile: (path) => void files.push(path) });
  await writer.writeBatch(batchOf(100));
  await until(() => files.length === 1, 'the first file');
  const pid = writer.converterPid!;
  await writer.writeBatch(batchOf(100, 100)); // full: sent to the process
  process.kill(pid, 'SIGSTOP');
  await writer.writeBatch(batchOf(10, 200));
  const closing = writer.close();
  t.after(async () => {
    resume(pid);
    await closing;
  });
  // The stopped process gets its grace (2 s), then is killed, and its conversion is done here.
  assert.equal(await settledWithin(closing, 8000), 'resolved', 'close() must not wait on a starved process');
  assert.equal(files.length, 3);
  assert.equal(await countRows(dir), 210);
});

test('without a `nice` command, the first conversion goes to a process started directly (not lost to EPIPE)', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const path = process.env.PATH;
  process.env.PATH = join(dir, 'no-such-dir');
  t.after(() => void (process.env.PATH = path));
  const errors: unknown[] = [];
  const files: string[] = [];
  const writer = new ParquetSpoolWriter(dir, { processNice: 19, rotateRows: 100, idleMs: 600_000, rotateMs: 600_000, onError: (error) => void errors.push(error), onFile: (file) => void files.push(file) });
  await writer.writeBatch(batchOf(100));
  await until(() => files.length + errors.length > 0, 'the first conversion');
  await writer.close();
  assert.deepEqual(errors.map(String), []);
  assert.equal(files.length, 1);
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('.spool')), []);
});

test('a Ctrl-C (SIGINT, or SIGTERM, to the process group) during a background conversion does not cut it short: every spool is converted', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const errors: unknown[] = [];
  const files: string[] = [];
  const writer = new ParquetSpoolWriter(dir, { processNice: 0, rotateRows: 20_000, idleMs: 600_000, rotateMs: 600_000, onError: (error) => void errors.push(error), onFile: (file) => void files.push(file) });
  for (let b = 0; b < 10; b++) await writer.writeBatch(batchOf(2000, b * 2000));
  // Signalled once it is converting (its text beside the spool).
  await until(() => writer.converterPid !== undefined, 'the converter process');
  const pid = writer.converterPid!;
  await untilAsync(async () => (await readdir(dir)).some((name) => name.endsWith(`.text-${pid}`)), 'the conversion');
  process.kill(pid, 'SIGINT');
  process.kill(pid, 'SIGTERM');
  await until(() => files.length === 1, 'the file');
  assert.equal(writer.converterPid, pid, 'the same process made it');
  await writer.close();
  assert.deepEqual(errors.map(String), []);
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('.spool')), []);
  assert.equal(await countRows(dir), 20_000);
});

test('recovery keeps the batches of a spool whose tail is zeros (size extended, data not written: power loss), as the line spools did', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const dead = new ParquetSpoolWriter(dir, { rotateRows: 1e9, idleMs: 600_000, rotateMs: 600_000 });
  await dead.writeBatch(batchOf(100));
  const [spool] = (await readdir(dir)).filter((name) => name.endsWith('.wire'));
  await appendFile(join(dir, spool!), Buffer.alloc(4096));
  await rename(join(dir, spool!), join(dir, spool!.replace(`-${process.pid}-`, '-999999-')));
  const errors: unknown[] = [];
  const writer = new ParquetSpoolWriter(dir, { onError: (error) => void errors.push(error) });
  const recovered = await writer.recover();
  await writer.close();
  assert.equal(recovered.length, 1, `nothing recovered: ${errors.map(String).join('; ')}`);
  assert.equal(await countRows(dir), 100);
  // The zeros are reported as a tail cut short, the rest kept.
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /cut short by a crash \(4096 bytes\)/);
});
