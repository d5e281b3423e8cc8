/**
 * A spool append that fails part-way, for real: the writer runs in a child process whose file
 * size limit (`ulimit -f`, RLIMIT_FSIZE; Node ignores SIGXFSZ) cuts a batch's frame short with
 * EFBIG, as a full disk would with ENOSPC. And a spool dropped after a failed append (its
 * directory gone), in process, with mocked timers: what becomes of its rotation timers.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { runProcess } from '../../test/support/cli.js';
import { makeTempDir } from '../../test/support/flights.js';
import { toLogRows, type PredictionRecord } from './prediction-log.js';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';
import { spoolLines } from './prediction-log-spool.js';

/**
 * Spools batches of one row each (\`BATCHES\`: id and note size; default three, the middle one of
 * 40 kB, which cannot fit) under a 16 KiB file size limit; with \`CLOSE\` the writer is closed after them.
 */
const LIMITED_WRITER = `
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ParquetSpoolWriter } from ${JSON.stringify(new URL('./prediction-log-parquet.ts', import.meta.url).href)};
import { packRecords } from ${JSON.stringify(new URL('./prediction-log-pack.ts', import.meta.url).href)};
const dir = process.env.SPOOL_DIR;
const writer = new ParquetSpoolWriter(dir, { token: 'limited', idleMs: 600000, rotateMs: 600000 });
const spoolBytes = () => readdirSync(dir).filter((name) => name.startsWith('.spool')).map((name) => statSync(join(dir, name)).size);
const results = [];
const batches = process.env.BATCHES ? JSON.parse(process.env.BATCHES) : [['before', 1000], ['cut-short', 40000], ['after', 1000]];
for (const [i, [id, bytes]] of batches.entries()) {
  const row = { requestId: id, modelName: 'flights', modelVersion: 1, role: 'primary', protocol: 'v2', inputNames: ['hour', 'note'], rows: { rowCount: 1, columns: [[i], ['x'.repeat(bytes)]] },
    outputs: [{ name: 'probability', type: 'float32', shape: [1, 1], data: [0.5] }], latencyMs: 1, at: 1700000000000 + i };
  const error = await writer.writePacked(packRecords([row])).then(() => null, (e) => e.code);
  results.push({ id, error, spoolBytes: spoolBytes() });
}
if (process.env.CLOSE) await writer.close();
process.stdout.write(JSON.stringify(results));
process.exit(0);
`;

test('a spool append cut short (EFBIG under a file size limit) leaves the spool as it was: later rows still go in, and every row spooled converts', { skip: process.platform === 'win32' }, async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const [before, cutShort, after] = await spoolUnderLimit(dir);
  assert.deepEqual([before!.error, cutShort!.error, after!.error], [null, 'EFBIG', null]);
  assert.equal(before!.spoolBytes.length, 1, 'one spool');
  assert.deepEqual(cutShort!.spoolBytes, before!.spoolBytes, 'the part of the batch written was taken back');
  assert.ok(after!.spoolBytes[0]! > before!.spoolBytes[0]!);

  // The child is gone: its spool is recovered as a crashed writer's, with nothing cut off.
  const errors: unknown[] = [];
  const writer = new ParquetSpoolWriter(dir, { onError: (error) => void errors.push(error) });
  const files = await writer.recover();
  await writer.close();
  assert.deepEqual(errors, []);
  assert.equal(files.length, 1);
  const rows = await withDuckDB((db) => queryRows(db, `SELECT request_id, length(features.note)::INTEGER AS note FROM read_parquet(${sqlString(files[0]!)}) ORDER BY logged_at`));
  assert.deepEqual(rows, [
    { request_id: 'before', note: 1000 },
    { request_id: 'after', note: 1000 },
  ]);
});

test('a first append cut short leaves no spool behind: closing the writer leaves an empty directory, not an empty spool', { skip: process.platform === 'win32' }, async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const [cutShort] = await spoolUnderLimit(dir, { batches: [['cut-short', 40000]], close: true });
  assert.equal(cutShort!.error, 'EFBIG');
  assert.deepEqual(await readdir(dir), [], 'nothing was spooled, so nothing is left to recover');
});

test('a spool dropped after a failed append takes its timers with it: the next spool is finished by its own age, not the dropped one\'s', async (t) => {
  const root = await makeTempDir(t.after.bind(t));
  const dir = join(root, 'log');
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  const files: string[] = [];
  const writer = new ParquetSpoolWriter(dir, { rotateMs: 1000, idleMs: 600_000, onFile: (path) => void files.push(path) });
  await writer.writeLines(spoolLines(toLogRows([oneRow('lost')])), 1);
  // The directory goes away: the append fails and so does cutting it back, so the spool is dropped.
  await rm(dir, { recursive: true });
  await assert.rejects(writer.writeLines(spoolLines(toLogRows([oneRow('refused')])), 1), { code: 'ENOENT' });
  await mkdir(dir);
  mock.timers.tick(600);
  await writer.writeLines(spoolLines(toLogRows([oneRow('first')])), 1);
  // The dropped spool's age is up; the new one, 500 ms old, is not.
  mock.timers.tick(500);
  await writer.writeLines(spoolLines(toLogRows([oneRow('second')])), 1);
  await writer.close();
  assert.equal(files.length, 1, 'both rows in one file');
  const rows = await withDuckDB((db) => queryRows(db, `SELECT request_id FROM read_parquet(${sqlString(files[0]!)}) ORDER BY request_id`));
  assert.deepEqual(rows, [{ request_id: 'first' }, { request_id: 'second' }]);
});

/** Runs LIMITED_WRITER on `dir` in a child process under the file size limit; what each batch's append did. */
async function spoolUnderLimit(dir: string, options: { batches?: [string, number][]; close?: boolean } = {}) {
  const env = { ...process.env, SPOOL_DIR: dir, ...(options.batches && { BATCHES: JSON.stringify(options.batches) }), ...(options.close && { CLOSE: '1' }) };
  const child = await runProcess('bash', ['-c', 'ulimit -f 16 && exec "$@"', 'bash', process.execPath, '--import', 'tsx', '--input-type=module', '-e', LIMITED_WRITER], { env });
  assert.equal(child.code, 0, child.stderr);
  return JSON.parse(child.stdout) as { id: string; error: string | null; spoolBytes: number[] }[];
}

function oneRow(requestId: string): PredictionRecord {
  return { requestId, modelName: 'flights', modelVersion: 1, role: 'primary', protocol: 'v2', inputNames: ['hour'], rows: { rowCount: 1, columns: [[1]] }, outputs: [{ name: 'probability', type: 'float32', shape: [1, 1], data: [0.5] }], latencyMs: 1, at: 1700000000000 };
}
