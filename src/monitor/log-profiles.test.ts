import assert from 'node:assert/strict';
import { mkdir, rm, truncate, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import { flightsParquetPath } from '../data/datasets.js';
import { queryRows, readSource, sqlString, withDuckDB } from '../data/duckdb.js';
import { inferSchema } from '../validate/schema.js';
import { computeStatistics } from '../validate/statistics.js';
import { ParquetPredictionSink } from '../serve/prediction-sinks.js';
import { makeTempDir } from '../../test/support/flights.js';
import { flightsLogRows } from '../../test/support/prediction-log.js';
import { assertSameWindows } from '../../test/support/same-windows.js';
import { readScoreCounts } from './cbpe.js';
import { profilePath, writeLogProfile } from './log-profile-write.js';
import { openLogProfiles, scoreCountsFromProfiles, type LogProfiles } from './log-profiles.js';
import { openPredictionLog, type PredictionLogFilter } from './prediction-log-reader.js';
import { structFields } from './logged-fields.js';
import { analyseWindows, type MonitorBaseline, type WindowAnalysis, type WindowSpec } from './windows.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 5);
const PER_FILE = 1800;
const FILES = 8;
const FILTER: PredictionLogFilter = { model: 'flights', version: 1, roles: ['primary'] };

/**
 * Eight log files of 1,800 flights rows each (February), in the writer's columnar layout,
 * one row a second: files 0–1 fill hour 0, file 2 the first half of hour 1, file 3 is shifted
 * 15 minutes (it straddles hours 1 and 2), files 4–5 are in hour 2, files 6–7 fill hour 3.
 * Features of every profiled type (BIGINT, DOUBLE, VARCHAR, BOOLEAN), a score output; a
 * tenth of the rows canary, some failed requests (status 500), both filtered out.
 */
async function writeLog(db: DuckDBConnection, dir: string): Promise<string[]> {
  await db.run(`CREATE TABLE log AS SELECT row_number() OVER () - 1 AS i, * FROM (SELECT delay, distance, origin, destination FROM read_parquet(${sqlString(flightsParquetPath())}) WHERE month(date) = 2 LIMIT ${PER_FILE * FILES})`);
  const files: string[] = [];
  for (let f = 0; f < FILES; f++) {
    const file = join(dir, `predictions-${f}.parquet`);
    const shift = f === 3 ? 900_000 : 0;
    await db.run(`COPY (SELECT 'r' || i AS request_id, 'flights' AS model_name, 1 AS model_version, CASE WHEN i % 10 = 0 THEN 'canary' ELSE 'primary' END AS role, 'v2' AS protocol,
        {delay: delay, distance: distance, origin: origin, destination: destination, ratio: distance / 7.0, late: delay > 15} AS features,
        {probability: 1 / (1 + exp(-(distance - 1000) / 500))} AS outputs, 0.5 AS latency_ms, epoch_ms(${START} + i * 1000 + ${shift}) AS logged_at,
        CASE WHEN i % 997 = 0 THEN 500 END AS status, NULL::VARCHAR AS error_code
      FROM log WHERE i // ${PER_FILE} = ${f}) TO ${sqlString(file)} (FORMAT PARQUET)`);
    files.push(file);
  }
  return files;
}

async function baselineOf(dir: string, columns = 'delay, distance, origin, destination, distance / 7.0 AS ratio, delay > 15 AS late'): Promise<MonitorBaseline> {
  const train = join(dir, 'train.parquet');
  await withDuckDB((db) =>
    db.run(`COPY (SELECT ${columns} FROM read_parquet(${sqlString(flightsParquetPath())}) WHERE month(date) = 1 LIMIT 20000)
      TO ${sqlString(train)} (FORMAT PARQUET)`),
  );
  const statistics = await computeStatistics(train);
  return { schema: inferSchema(statistics), statistics, trainingRows: `SELECT * FROM ${readSource(train)}` };
}

/** The windows analysed with the log's profiles, which windows the profiles served (and whose extent they gave), and the same windows scanned. */
async function analyse(logDir: string, baseline: MonitorBaseline, window: WindowSpec): Promise<{ profiled: WindowAnalysis[]; scanned: WindowAnalysis[]; served: boolean[]; extents: boolean[] }> {
  return withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir: logDir }, FILTER);
    const opened = await openLogProfiles(db, log);
    assert.ok(opened, 'the log has profiles');
    const [served, extents]: boolean[][] = [[], []];
    const profiles: LogProfiles = {
      ...opened,
      counts: async (range, columns) => { const counts = await opened.counts(range, columns); served.push(counts !== undefined); return counts; },
      extent: async (range) => { const extent = await opened.extent(range); extents.push(extent !== undefined); return extent; },
    };
    const profiled = await analyseWindows(db, log.relation, baseline, { window, profiles });
    await opened.close();
    const scanned = await analyseWindows(db, log.relation, baseline, { window });
    const [left] = await queryRows(db, `SELECT (SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '__loom%') + (SELECT count(*) FROM duckdb_views() WHERE view_name LIKE '__loom%') AS n`);
    assert.equal(Number(left!.n), 0, 'the windows and the profiles drop every table and view they made');
    return { profiled, scanned, served, extents };
  });
}

test('windows from the log files\' profiles equal the windows scanned: hourly, daily and one window of N requests; a file straddling hours, a field over the cap, a missing and a torn profile', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const logDir = join(dir, 'predictions');
  await mkdir(logDir);
  const baseline = await baselineOf(dir);
  const files = await withDuckDB(async (db) => {
    const written = await writeLog(db, logDir);
    // Files this small would have their wide fields capped by the default (a quarter of their rows): every field counted here.
    for (const file of written) assert.equal(await writeLogProfile(db, file, { maxDistinct: PER_FILE }), profilePath(file));
    return written;
  });

  // Hours 0 and 3 hold whole files only; file 3 straddles hours 1 and 2, so those are scanned.
  let hourly = await analyse(logDir, baseline, { kind: 'hourly' });
  assert.deepEqual(hourly.profiled.map((w) => [w.start - START, w.rows]), hourly.scanned.map((w) => [w.start - START, w.rows]));
  assert.deepEqual(hourly.served, [true, false, false, true]);
  assert.equal(hourly.profiled.length, 4);
  assertSameWindows(hourly.profiled, hourly.scanned);
  for (const window of [{ kind: 'daily' } as const, { kind: 'requests', size: 1_000_000 } as const]) {
    const whole = await analyse(logDir, baseline, window);
    assert.deepEqual(whole.served, [true], `${window.kind}: one window, all of it in profiled files`);
    assert.deepEqual(whole.extents, window.kind === 'requests' ? [true] : [], 'the rows and times of one window of N requests from the profiles');
    assertSameWindows(whole.profiled, whole.scanned);
  }
  // Windows of N requests cut files anywhere: scanned.
  const requests = await analyse(logDir, baseline, { kind: 'requests', size: 5000 });
  assert.deepEqual(requests.served, []);

  // A field over the cap in file 6, file 0's profile gone, file 7's torn: hours 0 and 3 are scanned too, with the same figures.
  await withDuckDB((db) => writeLogProfile(db, files[6]!, { maxDistinct: 10 }));
  hourly = await analyse(logDir, baseline, { kind: 'hourly' });
  assert.deepEqual(hourly.served, [true, false, false, false], 'hour 3 has a capped field');
  await rm(profilePath(files[0]!));
  await truncate(profilePath(files[7]!), Math.floor((await stat(profilePath(files[7]!))).size / 2));
  hourly = await analyse(logDir, baseline, { kind: 'hourly' });
  assert.deepEqual(hourly.served, [false, false, false, false]);
  assertSameWindows(hourly.profiled, hourly.scanned);
  // One window of N requests: its rows and times were the profiles' above; with a file unprofiled, all of it is scanned.
  const unprofiled = await analyse(logDir, baseline, { kind: 'requests', size: 1_000_000 });
  assert.deepEqual([unprofiled.extents, unprofiled.served], [[false], [false]]);
  assertSameWindows(unprofiled.profiled, unprofiled.scanned);
});

test('a profile is trusted only with its own file: a file replaced since is scanned; CBPE scores counted from profiles equal those read from the rows', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const logDir = join(dir, 'predictions');
  await mkdir(logDir);
  await withDuckDB(async (db) => {
    const files = await writeLog(db, logDir);
    for (const file of files) await writeLogProfile(db, file, { maxDistinct: PER_FILE });
    const all = { from: -Infinity, to: Infinity };
    const scores = async () => {
      const log = await openPredictionLog(db, { kind: 'parquet', dir: logDir }, FILTER);
      const profiles = await openLogProfiles(db, log);
      const fieldType = (await structFields(db, log.relation, 'outputs'))?.get('probability');
      const counted = profiles && (await scoreCountsFromProfiles(db, profiles, all, 'probability', fieldType));
      await profiles?.close();
      return { counted, read: await readScoreCounts(db, log.relation, 'outputs.probability') };
    };
    const before = await scores();
    assert.ok(before.counted, 'every file profiled: the scores come from the profiles');
    assert.deepEqual(before.counted, before.read);
    // File 2 rewritten with other rows (its first 1,000): its profile no longer matches it.
    await db.run(`COPY (SELECT * FROM read_parquet(${sqlString(files[2]!)}) LIMIT 1000) TO ${sqlString(`${files[2]}.new`)} (FORMAT PARQUET)`);
    await rm(files[2]!);
    const { rename } = await import('node:fs/promises');
    await rename(`${files[2]}.new`, files[2]!);
    const after = await scores();
    assert.equal(after.counted, undefined, 'file 2 is scanned, so the whole log is');
    const hour1 = await withDuckDB(async (other) => {
      const log = await openPredictionLog(other, { kind: 'parquet', dir: logDir }, FILTER);
      const profiles = (await openLogProfiles(other, log))!;
      const fieldType = (await structFields(other, log.relation, 'outputs'))?.get('probability');
      const hour0 = await scoreCountsFromProfiles(other, profiles, { from: START, to: START + HOUR }, 'probability', fieldType);
      const hour0Read = await readScoreCounts(other, `SELECT * FROM (${log.relation}) WHERE logged_at < epoch_ms(${START + HOUR}::BIGINT)`, 'outputs.probability');
      return { hour0, hour0Read };
    });
    assert.ok(hour1.hour0, 'hour 0 does not hold file 2: its profiles still serve');
    assert.deepEqual(hour1.hour0, hour1.hour0Read);
  });
});

test('the log writer profiles each file it finishes: daily windows of its files are served by the profiles, with the figures of the scan', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const logDir = join(dir, 'predictions');
  // The writer typed these rows' delay DOUBLE (read as a FLOAT here; an INT schema reads it from its text, so it would be scanned) and distance UBIGINT.
  const baseline = await baselineOf(dir, 'delay::DOUBLE AS delay, distance, origin, destination');
  // Two days of traffic, a file per day (rotated by hand), as `loom serve` logs it.
  const sink = new ParquetPredictionSink(logDir);
  for (const [day, month] of [[0, 1], [1, 3]] as const) {
    await sink.write(await flightsLogRows({ months: [month], every: 400, start: START + day * 86_400_000, stepMs: 20_000 }));
    await sink.rotate();
  }
  await sink.close();
  const daily = await analyse(logDir, baseline, { kind: 'daily' });
  assert.deepEqual(daily.served, [true, true]);
  assertSameWindows(daily.profiled, daily.scanned);
});
