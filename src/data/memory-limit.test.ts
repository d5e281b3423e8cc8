/**
 * Data larger than memory: the ingest runs DuckDB under a 32 MB limit over all of
 * flights-3m (3M rows: over three times the limit in raw values alone), as Parquet and
 * as CSV (which is materialised whole to catch bad rows), sorting every row to write the
 * snapshot, and spills to disk instead of failing. No row passes through JavaScript.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FLIGHTS_PARQUET, makeTempDir } from '../../test/support/flights.js';
import { loadConfig } from '../platform/config.js';
import { duckDBDefaults, duckDBSettings, queryRows, setDuckDBDefaults, sqlString, withDuckDB } from './duckdb.js';
import { ingestSnapshot, type IngestRequest } from './ingest.js';

const LIMIT = '32MB';
const LIMIT_BYTES = 32 * 1000 * 1000;

test('an ingest under a 32 MB memory limit sorts and writes all of flights-3m (over three times the limit) from Parquet and from CSV, with exact counts and one version', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const expected = await withDuckDB(async (db) => {
    const [row] = await queryRows(db, `SELECT count(*)::DOUBLE AS n, count(*) FILTER (WHERE delay > 15)::DOUBLE AS late,
        sum(8 * 4 + strlen(origin) + strlen(destination))::DOUBLE AS bytes FROM read_parquet(${sqlString(FLIGHTS_PARQUET)})`);
    return { rows: Number(row!.n), late: Number(row!.late), bytes: Number(row!.bytes) };
  });
  assert.ok(expected.bytes > 3 * LIMIT_BYTES, `the raw values alone (${(expected.bytes / 1e6).toFixed(0)} MB) are over three times the limit`);

  const spill = join(dir, 'spill');
  const request: IngestRequest = {
    source: FLIGHTS_PARQUET,
    select: { date: 'date', delay: 'delay', distance: 'distance', origin: 'origin', destination: 'destination', late: 'delay > 15' },
    split: { kind: 'time', column: 'date', evalFrom: '2001-06-01' },
  };
  const limited = await ingestSnapshot({ ...request, memoryLimit: LIMIT, tempDirectory: spill }, join(dir, 'limited'));
  assert.equal(limited.rowCounts.train + limited.rowCounts.eval, expected.rows);
  const late = await withDuckDB(async (db) =>
    Number((await queryRows(db, `SELECT count(*) FILTER (WHERE late)::DOUBLE AS n FROM read_parquet(${sqlString(join(dir, 'limited', '*', 'data.parquet'))})`))[0]!.n),
  );
  assert.equal(late, expected.late);
  // The ingest's private directory (with DuckDB's spill files) under tempDirectory is gone afterwards.
  assert.deepEqual(await readdir(spill), []);

  // CSV is read whole into DuckDB (every value parsed, bad rows rejected) before sorting:
  // the same 3M rows as CSV under the same limit give the same version.
  const csv = join(dir, 'flights-3m.csv');
  await withDuckDB((db) => db.run(`COPY (SELECT * FROM read_parquet(${sqlString(FLIGHTS_PARQUET)})) TO ${sqlString(csv)} (FORMAT CSV, HEADER)`));
  const fromCsv = await ingestSnapshot({ ...request, source: csv, memoryLimit: LIMIT, tempDirectory: spill }, join(dir, 'csv'));
  assert.equal(fromCsv.contentHash, limited.contentHash);
  assert.equal(fromCsv.badRows, 0);
});

test('the memory limit is real: what cannot spill fails under it, and LOOM_DUCKDB_MEMORY_LIMIT sets it for every step', async (t) => {
  const previous = duckDBDefaults();
  t.after(() => setDuckDBDefaults(previous));
  // What openPlatform does with the config of a process whose environment sets the limit.
  setDuckDBDefaults(loadConfig({ env: { LOOM_DUCKDB_MEMORY_LIMIT: LIMIT } }).duckdb);
  const setting = await withDuckDB(async (db) => String((await queryRows(db, `SELECT current_setting('memory_limit') AS m`))[0]!.m));
  assert.match(setting, /^3\d(\.\d+)? MiB$/);
  // One list of 20M integers must sit in memory at once: far over 32 MB, it cannot spill.
  await assert.rejects(
    withDuckDB((db) => db.run('SELECT len(list(range)) FROM range(20000000)')),
    /Out of Memory|memory limit/i,
  );
  assert.equal(duckDBSettings({ memoryLimit: '2GB' }).memory_limit, '2GB', 'an explicit limit wins over the environment');
  assert.throws(() => loadConfig({ env: { LOOM_DUCKDB_MEMORY_LIMIT: 'lots' } }), /LOOM_DUCKDB_MEMORY_LIMIT: "lots" is not a memory size/);
});
