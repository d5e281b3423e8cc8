/**
 * A spool append that fails part-way, for real: the writer runs in a child process whose file
 * size limit (`ulimit -f`, RLIMIT_FSIZE; Node ignores SIGXFSZ) cuts a batch's frame short with
 * EFBIG, as a full disk would with ENOSPC.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { runProcess } from '../../test/support/cli.js';
import { makeTempDir } from '../../test/support/flights.js';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';

/** Spools three batches of one row each under a 16 KiB file size limit; the middle one (40 kB) cannot fit. */
const LIMITED_WRITER = `
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ParquetSpoolWriter } from ${JSON.stringify(new URL('./prediction-log-parquet.ts', import.meta.url).href)};
import { packRecords } from ${JSON.stringify(new URL('./prediction-log-pack.ts', import.meta.url).href)};
const dir = process.env.SPOOL_DIR;
const writer = new ParquetSpoolWriter(dir, { token: 'limited', idleMs: 600000, rotateMs: 600000 });
const spoolBytes = () => readdirSync(dir).filter((name) => name.startsWith('.spool')).map((name) => statSync(join(dir, name)).size);
const results = [];
for (const [i, [id, bytes]] of [['before', 1000], ['cut-short', 40000], ['after', 1000]].entries()) {
  const row = { requestId: id, modelName: 'flights', modelVersion: 1, role: 'primary', protocol: 'v2', inputNames: ['hour', 'note'], rows: { rowCount: 1, columns: [[i], ['x'.repeat(bytes)]] },
    outputs: [{ name: 'probability', type: 'float32', shape: [1, 1], data: [0.5] }], latencyMs: 1, at: 1700000000000 + i };
  const error = await writer.writePacked(packRecords([row])).then(() => null, (e) => e.code);
  results.push({ id, error, spoolBytes: spoolBytes() });
}
process.stdout.write(JSON.stringify(results));
process.exit(0);
`;

test('a spool append cut short (EFBIG under a file size limit) leaves the spool as it was: later rows still go in, and every row spooled converts', { skip: process.platform === 'win32' }, async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const child = await runProcess('bash', ['-c', 'ulimit -f 16 && exec "$@"', 'bash', process.execPath, '--import', 'tsx', '--input-type=module', '-e', LIMITED_WRITER], { env: { ...process.env, SPOOL_DIR: dir } });
  assert.equal(child.code, 0, child.stderr);
  const [before, cutShort, after] = JSON.parse(child.stdout) as { id: string; error: string | null; spoolBytes: number[] }[];
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
