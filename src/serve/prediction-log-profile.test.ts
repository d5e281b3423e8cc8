import assert from 'node:assert/strict';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { profilePath } from '../monitor/log-profile-write.js';
import { makeTempDir } from '../../test/support/flights.js';
import { flightsLogRows } from '../../test/support/prediction-log.js';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';

test('a profile that cannot be written is reported and the log file stands: rotation goes on, nothing half-written is left', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const errors: unknown[] = [];
  const writer = new ParquetSpoolWriter(dir, { token: 'p1', onError: (error) => void errors.push(error) });
  const rows = await flightsLogRows({ months: [1], every: 2000, start: 0, stepMs: 1000 });
  await writer.write(rows.slice(0, 50));
  // The file the spool becomes is named after it; a directory in the way of its profile makes the profile's rename fail (as a full disk or a refused write would).
  const spool = (await readdir(dir)).find((name) => name.startsWith('.spool-'))!;
  const [, pid, token, n, stamp] = /^\.spool-(\d+)-([a-z0-9]+)-(\d+)-([0-9TZ]+)\./.exec(spool)!;
  const target = join(dir, `predictions-${stamp}-${pid}-${token}-${n}.parquet`);
  await mkdir(profilePath(target));
  await writeFile(join(profilePath(target), 'in-the-way'), '');
  assert.equal(await writer.rotate(), target);
  assert.equal(errors.length, 1, 'the profile\'s failure is reported');
  assert.ok(errors[0] instanceof LoomError && errors[0].message.includes(target) && errors[0].fix, String(errors[0]));
  const count = (file: string) => withDuckDB(async (db) => Number((await queryRows(db, `SELECT count(*) AS n FROM read_parquet(${sqlString(file)})`))[0]!.n));
  assert.equal(await count(target), 50, 'the log file stands whole');
  // The next file is written and profiled as usual.
  await rm(profilePath(target), { recursive: true });
  await writer.write(rows.slice(50, 80));
  const next = await writer.rotate();
  await writer.close();
  assert.ok(next && next !== target);
  assert.equal(await count(next), 30);
  assert.equal(errors.length, 1);
  assert.deepEqual((await readdir(dir)).sort(), [target, next, profilePath(next)].map((f) => f.slice(dir.length + 1)).sort(), 'no temporary file or spool is left');
});
