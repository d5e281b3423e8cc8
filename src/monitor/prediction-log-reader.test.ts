import assert from 'node:assert/strict';
import { copyFile, open, readdir, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { ParquetPredictionSink, PostgresPredictionSink } from '../serve/prediction-sinks.js';
import { openFreshPostgres, postgresTestUrl } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { flightsLogRows } from '../../test/support/prediction-log.js';
import { profilePath } from './log-profile-write.js';
import { openLogProfiles } from './log-profiles.js';
import { openPredictionLog, type PredictionLogFilter, type PredictionLogLocation } from './prediction-log-reader.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 5, 0, 0, 0);

/** Two versions and two roles over four hours: 1 row a minute per version. */
async function logRows() {
  const v1 = await flightsLogRows({ months: [1], every: 1000, version: 1, start: START, stepMs: 60_000 });
  const v2 = await flightsLogRows({ months: [3], every: 1000, version: 2, role: 'canary', start: START + 30_000, stepMs: 60_000 });
  return { v1: v1.slice(0, 240), v2: v2.slice(0, 240) };
}

/** Version 1's rows written as two Parquet files in `dir` (120 rows each, in time order); the rows returned. */
async function twoFileLog(dir: string) {
  const rows = await logRows();
  const sink = new ParquetPredictionSink(dir);
  await sink.write(rows.v1.slice(0, 120));
  await sink.rotate();
  await sink.write(rows.v1.slice(120));
  await sink.close();
  return rows;
}

async function summary(location: PredictionLogLocation, filter: PredictionLogFilter) {
  return withDuckDB(async (db) => {
    const log = await openPredictionLog(db, location, filter);
    try {
      const [row] = await queryRows(
        db,
        `SELECT count(*)::INTEGER AS n, count(DISTINCT model_version)::INTEGER AS versions, min(epoch_ms(logged_at))::BIGINT AS first,
          sum((features->>'distance')::BIGINT)::BIGINT AS distance, min(features->>'origin') AS origin FROM (${log.relation})`,
      );
      return { n: row!.n, versions: row!.versions, first: row!.first === null ? null : Number(row!.first), distance: row!.distance === null ? null : Number(row!.distance), origin: row!.origin, skipped: log.skipped };
    } finally {
      await log.close();
    }
  });
}

/** What the filter should select, from the rows written. */
function expected(rows: Awaited<ReturnType<typeof logRows>>, filter: PredictionLogFilter) {
  const picked = [...rows.v1, ...rows.v2].filter(
    (r) =>
      r.modelName === filter.model &&
      (filter.version === undefined || r.modelVersion === filter.version) &&
      (!filter.roles || filter.roles.includes(r.role)) &&
      (filter.from === undefined || r.loggedAt >= filter.from) &&
      (filter.to === undefined || r.loggedAt < filter.to),
  );
  const features = picked.map((r) => JSON.parse(r.features) as { distance: number; origin: string });
  return {
    n: picked.length,
    versions: new Set(picked.map((r) => r.modelVersion)).size,
    first: picked.length ? Math.min(...picked.map((r) => r.loggedAt)) : null,
    distance: picked.length ? features.reduce((s, f) => s + f.distance, 0) : null,
    origin: picked.length ? features.map((f) => f.origin).sort()[0] : null,
  };
}

const FILTERS: PredictionLogFilter[] = [
  { model: 'flights' },
  { model: 'flights', version: 2 },
  { model: 'flights', roles: ['primary'] },
  { model: 'flights', from: START + HOUR, to: START + 2 * HOUR },
  { model: 'flights', version: 1, roles: ['canary'] },
  { model: 'other' },
];

test('Parquet log: rows written by the serving sink read back by model, version, role and time range', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const rows = await logRows();
  const sink = new ParquetPredictionSink(dir, { rotateRows: 100 });
  // Two writes per hour-ish, several files: the reader sees them as one log.
  for (let i = 0; i < 240; i += 60) await sink.write([...rows.v1.slice(i, i + 60), ...rows.v2.slice(i, i + 60)]);
  await sink.close();
  assert.ok((await readdir(dir)).filter((f) => f.endsWith('.parquet')).length >= 4);
  for (const filter of FILTERS) {
    const { skipped, ...got } = await summary({ kind: 'parquet', dir }, filter);
    assert.deepEqual(got, expected(rows, filter), JSON.stringify(filter));
    assert.deepEqual(skipped, []);
  }
});

test('Parquet log: a torn last file is skipped and reported, the other files are read', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const rows = await twoFileLog(dir);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet')).sort();
  assert.equal(files.length, 2);
  // The second file cut in half, as a copy interrupted by a crash or a full disk leaves it.
  const torn = join(dir, files[1]!);
  await truncate(torn, Math.floor((await stat(torn)).size / 2));
  // And an empty file with a Parquet name.
  const empty = join(dir, 'predictions-zzz.parquet');
  await writeFile(empty, '');
  const { skipped, ...got } = await summary({ kind: 'parquet', dir }, { model: 'flights' });
  assert.deepEqual(got, expected({ v1: rows.v1.slice(0, 120), v2: [] }, { model: 'flights' }));
  assert.deepEqual(skipped.map((s) => s.file).sort(), [torn, empty].sort());
  assert.ok(skipped.every((s) => s.reason.length > 0));
  // Writers' temporary files and spools are never read.
  await copyFile(join(dir, files[0]!), join(dir, `${files[0]}.tmp-123`));
  assert.equal((await summary({ kind: 'parquet', dir }, { model: 'flights' })).n, 120);
});

test('Parquet log: no folder yet reads as no rows; a bad filter is INVALID_ARGUMENT', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  assert.deepEqual(await summary({ kind: 'parquet', dir: join(dir, 'none') }, { model: 'flights' }), { n: 0, versions: 0, first: null, distance: null, origin: null, skipped: [] });
  await assert.rejects(summary({ kind: 'parquet', dir }, { model: 'flights', roles: ['boss' as 'primary'] }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(summary({ kind: 'parquet', dir }, { model: 'flights', from: 1.5 }), { code: 'INVALID_ARGUMENT' });
});

const url = postgresTestUrl('prediction log reader on PostgreSQL');
if (url) {
  test('PostgreSQL log: the same filters select the same rows', async () => {
    const db = await openFreshPostgres(url);
    const schema = db.config.database.schema!;
    try {
      const rows = await logRows();
      const sink = new PostgresPredictionSink({ url, schema });
      await sink.write([...rows.v1, ...rows.v2, { ...rows.v1[0]!, modelName: "o'brien", requestId: 'quote' }]);
      await sink.close();
      for (const filter of FILTERS) {
        const { skipped, ...got } = await summary({ kind: 'postgres', url, schema }, filter);
        assert.deepEqual(got, expected(rows, filter), JSON.stringify(filter));
        assert.deepEqual(skipped, []);
      }
      assert.equal((await summary({ kind: 'postgres', url, schema }, { model: "o'brien" })).n, 1, 'names are quoted');
    } finally {
      await db.close();
    }
  });
}

test('Parquet log: a file read whole once and torn later is skipped then, not taken for the file that was read', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const rows = await twoFileLog(dir);
  const whole = await summary({ kind: 'parquet', dir }, { model: 'flights' });
  assert.equal(whole.n, 240);
  assert.deepEqual(whole.skipped, []);
  // Both files are known readable now; the second one is then cut short.
  const torn = join(dir, (await readdir(dir)).filter((f) => f.endsWith('.parquet')).sort()[1]!);
  await truncate(torn, Math.floor((await stat(torn)).size / 2));
  const { skipped, ...got } = await summary({ kind: 'parquet', dir }, { model: 'flights' });
  assert.deepEqual(got, expected({ v1: rows.v1.slice(0, 120), v2: [] }, { model: 'flights' }));
  assert.deepEqual(skipped.map((s) => s.file), [torn]);
  // Read again unchanged: the same answer (the first file's check kept, the torn one checked again).
  assert.deepEqual((await summary({ kind: 'parquet', dir }, { model: 'flights' })).skipped.map((s) => s.file), [torn]);
});

test('Parquet log: a file read whole once and overwritten in place later with its size and modification time kept (cp -p, rsync) is checked again', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const rows = await twoFileLog(dir);
  const damaged = join(dir, (await readdir(dir)).filter((f) => f.endsWith('.parquet')).sort()[1]!);
  // A whole second, as a copy that keeps times (or a filesystem of coarse times) gives it.
  await utimes(damaged, 1_700_000_000, 1_700_000_000);
  assert.deepEqual((await summary({ kind: 'parquet', dir }, { model: 'flights' })).skipped, []);
  const before = await stat(damaged);
  // The same inode, the same size, the old modification time put back: only the change time tells.
  const file = await open(damaged, 'r+');
  await file.write(Buffer.alloc(before.size, 7), 0, before.size, 0);
  await file.close();
  await utimes(damaged, 1_700_000_000, 1_700_000_000);
  assert.equal((await stat(damaged, { bigint: true })).mtimeNs, 1_700_000_000_000_000_000n);
  const { skipped, ...got } = await summary({ kind: 'parquet', dir }, { model: 'flights' });
  assert.deepEqual(skipped.map((s) => s.file), [damaged]);
  assert.deepEqual(got, expected({ v1: rows.v1.slice(0, 120), v2: [] }, { model: 'flights' }));
});

test('Parquet log: the profiles loaded to check the files are handed on for the windows; a file without a trusted profile has its pages read, and damaged ones behind an intact footer are skipped', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const rows = await twoFileLog(dir);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(dir, f));
  // Both files profiled by the writer: the profiles the reader loaded to check them are handed on for the windows.
  await withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights' });
    assert.deepEqual(log.profiles?.trusted, files);
    assert.deepEqual(await (await openLogProfiles(db, log))?.extent({ from: -Infinity, to: Infinity }), { rows: 240, start: START, end: START + 239 * 60_000 });
    // Opened again in this process: both files are known readable, no profile is loaded to check them, and the windows load them.
    const again = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights' });
    assert.equal(again.profiles, undefined);
    assert.deepEqual(await (await openLogProfiles(db, again))?.extent({ from: -Infinity, to: Infinity }), { rows: 240, start: START, end: START + 239 * 60_000 });
  });
  // The second file's profile gone and its pages overwritten, its footer (and so its size and row count) left intact.
  const damaged = files[1]!;
  await rm(profilePath(damaged));
  const size = (await stat(damaged)).size;
  const file = await open(damaged, 'r+');
  const tail = Buffer.alloc(8);
  await file.read(tail, 0, 8, size - 8);
  const dataEnd = size - 8 - tail.readUInt32LE(0);
  await file.write(Buffer.alloc(dataEnd - 4, 0xff), 0, dataEnd - 4, 4);
  await file.close();
  const { skipped, ...got } = await summary({ kind: 'parquet', dir }, { model: 'flights' });
  assert.deepEqual(skipped.map((s) => s.file), [damaged]);
  assert.deepEqual(got, expected({ v1: rows.v1.slice(0, 120), v2: [] }, { model: 'flights' }));
});

test('Parquet log: with a torn file skipped, the other files\' profiles still serve the windows', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  await twoFileLog(dir);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(dir, f));
  await truncate(files[1]!, Math.floor((await stat(files[1]!)).size / 2));
  await withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights' });
    assert.deepEqual(log.skipped.map((s) => s.file), [files[1]]);
    const profiles = await openLogProfiles(db, log);
    assert.deepEqual(await profiles?.extent({ from: -Infinity, to: Infinity }), { rows: 120, start: START, end: START + 119 * 60_000 });
  });
});
