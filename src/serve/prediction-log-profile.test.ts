import assert from 'node:assert/strict';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LoomError } from '../core/errors.js';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { profilePath } from '../monitor/log-profile-write.js';
import { makeTempDir } from '../../test/support/flights.js';
import { flightsLogRows } from '../../test/support/prediction-log.js';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';

test('a profile that cannot be written is reported and the log file stands; it is tried again after the next file, and given up after the last attempt', async (t) => {
  const { dir, errors, writer, rows } = await writerWithErrors(t, 'p1');
  await writer.write(rows.slice(0, 50));
  const target = await blockProfile(dir);
  assert.equal(await writer.rotate(), target);
  assert.equal(errors.length, 1, "the profile's failure is reported");
  assert.ok(errors[0] instanceof LoomError && errors[0].message.includes(target) && errors[0].message.includes('attempt 1 of 3') && /tried again/.test(errors[0].fix ?? ''), String(errors[0]));
  assert.equal(await count(target), 50, 'the log file stands whole');

  // The cause goes; the next file is profiled, and then the one that failed.
  await rm(profilePath(target), { recursive: true });
  await writer.write(rows.slice(50, 80));
  const next = await writer.rotate();
  assert.ok(next && next !== target);
  assert.equal(await count(next), 30);
  assert.equal(errors.length, 1, 'nothing more failed');
  assert.equal(await profiledRows(target), 50, "the retried profile is the file's");
  assert.deepEqual((await readdir(dir)).sort(), [target, profilePath(target), next, profilePath(next)].map((f) => f.slice(dir.length + 1)).sort(), 'no temporary file or spool is left');

  // A cause that stays: tried after each of the next two files, then given up (reported as such).
  await writer.write(rows.slice(80, 90));
  const stuck = await blockProfile(dir);
  assert.equal(await writer.rotate(), stuck);
  for (const [from, to] of [[90, 100], [100, 110]]) {
    await writer.write(rows.slice(from, to));
    await writer.rotate();
  }
  await writer.write(rows.slice(110, 120));
  await writer.rotate();
  await writer.close();
  const about = errors.slice(1).map((e) => (e as LoomError).message);
  assert.equal(about.length, 3, about.join('\n'));
  assert.ok(about.every((m) => m.includes(stuck)));
  assert.deepEqual(about.map((m) => /attempt (\d) of 3/.exec(m)![1]), ['1', '2', '3']);
  assert.match((errors.at(-1) as LoomError).fix ?? '', /scan its rows/);
  assert.ok(!(errors.at(-1) as LoomError).fix?.includes('tried again'), 'the last attempt says it is the last');
  assert.equal(await count(stuck), 10);
});

test('a file whose profile failed and that is removed before the retry (retention) is forgotten, not reported again', async (t) => {
  const { dir, errors, writer, rows } = await writerWithErrors(t, 'p2');
  await writer.write(rows.slice(0, 20));
  const target = await blockProfile(dir);
  await writer.rotate();
  assert.equal(errors.length, 1);
  await rm(target);
  await rm(profilePath(target), { recursive: true });
  await writer.write(rows.slice(20, 30));
  const next = await writer.rotate();
  await writer.close();
  assert.equal(errors.length, 1, 'nothing more reported');
  assert.deepEqual((await readdir(dir)).sort(), [next!, profilePath(next!)].map((f) => f.slice(dir.length + 1)).sort(), 'no profile without its file');
});

/** A writer in a new directory whose reported errors are kept, and flights rows to log. */
async function writerWithErrors(t: TestContext, token: string) {
  const dir = await makeTempDir(t.after.bind(t));
  const errors: unknown[] = [];
  const writer = new ParquetSpoolWriter(dir, { token, onError: (error) => void errors.push(error) });
  return { dir, errors, writer, rows: await flightsLogRows({ months: [1], every: 2000, start: 0, stepMs: 1000 }) };
}

/**
 * The Parquet file the writer's current spool becomes (named after it), with a directory in the
 * way of its profile: the profile's rename fails, as on a full disk or a refused write.
 */
async function blockProfile(dir: string): Promise<string> {
  const spool = (await readdir(dir)).find((name) => name.startsWith('.spool-'))!;
  const [, pid, token, n, stamp] = /^\.spool-(\d+)-([a-z0-9]+)-(\d+)-([0-9TZ]+)\./.exec(spool)!;
  const target = join(dir, `predictions-${stamp}-${pid}-${token}-${n}.parquet`);
  await mkdir(profilePath(target));
  await writeFile(join(profilePath(target), 'in-the-way'), '');
  return target;
}

const count = (file: string) => withDuckDB(async (db) => Number((await queryRows(db, `SELECT count(*) AS n FROM read_parquet(${sqlString(file)})`))[0]!.n));

/** The rows a profile's file row records. */
const profiledRows = (file: string) =>
  withDuckDB(async (db) => Number((await queryRows(db, `SELECT rows FROM read_parquet(${sqlString(profilePath(file))}) WHERE kind = 'file'`))[0]!.rows));
