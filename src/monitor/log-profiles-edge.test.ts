import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import { readSource, sqlString, withDuckDB } from '../data/duckdb.js';
import { inferSchema } from '../validate/schema.js';
import { computeStatistics } from '../validate/statistics.js';
import { makeTempDir } from '../../test/support/flights.js';
import { assertSameWindows } from '../../test/support/same-windows.js';
import { profilePath, writeLogProfile } from './log-profile-write.js';
import { openLogProfiles, type LogProfiles } from './log-profiles.js';
import { openPredictionLog } from './prediction-log-reader.js';
import { analyseWindows, type MonitorBaseline, type WindowAnalysis } from './windows.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 5);

/** Every kind of value the profiles count: NaN, ±inf, -0 and NULL doubles, a wide integer, UBIGINT, NULL booleans, strings with NUL and non-ASCII. */
const FEATURES = `{wide: (i * 1000003)::BIGINT,
  f: CASE i % 11 WHEN 0 THEN 'NaN'::DOUBLE WHEN 1 THEN 'inf'::DOUBLE WHEN 2 THEN '-inf'::DOUBLE WHEN 3 THEN -0.0 WHEN 4 THEN NULL ELSE (i % 7)::DOUBLE END,
  s: CASE i % 6 WHEN 0 THEN 'x' || chr(0) || 'y' WHEN 1 THEN 'é漢' WHEN 2 THEN NULL ELSE 'a' || (i % 5) END,
  b: CASE WHEN i % 5 = 0 THEN NULL ELSE i % 2 = 0 END, u: (i % 9)::UBIGINT}`;

/** A log file of `rows` rows of model `m`, one a second from `hour`, profiled (every field counted) unless told not to. */
async function logFile(db: DuckDBConnection, path: string, hour: number, options: { rows?: number; features?: string; model?: string; version?: string; role?: string; profiled?: boolean } = {}): Promise<void> {
  await db.run(`COPY (SELECT 'r' || i AS request_id, ${sqlString(options.model ?? 'm')} AS model_name, ${options.version ?? '1'}::INTEGER AS model_version, ${options.role ?? "'primary'"}::VARCHAR AS role,
      'v2' AS protocol, ${options.features ?? FEATURES} AS features, {score: (i % 17) / 17.0} AS outputs, 0.5 AS latency_ms, epoch_ms(${START} + ${hour} * ${HOUR} + i * 1000) AS logged_at,
      NULL::INTEGER AS status, NULL::VARCHAR AS error_code
    FROM range(${options.rows ?? 200}) t(i)) TO ${sqlString(path)} (FORMAT PARQUET)`);
  if (options.profiled !== false) await writeLogProfile(db, path, { maxDistinct: 1000 });
}

async function baselineOf(dir: string): Promise<MonitorBaseline> {
  const train = join(dir, 'train.parquet');
  await withDuckDB((db) =>
    db.run(`COPY (SELECT (i * 1000003)::BIGINT AS wide, (i % 7)::DOUBLE AS f, 'a' || (i % 5) AS s, i % 2 = 0 AS b, (i % 9)::UBIGINT AS u, i AS never_logged, 'c' || (i % 3) AS never_logged_s FROM range(1000) t(i)) TO ${sqlString(train)} (FORMAT PARQUET)`),
  );
  const statistics = await computeStatistics(train);
  return { schema: inferSchema(statistics), statistics, trainingRows: `SELECT * FROM ${readSource(train)}` };
}

/** An empty log directory in a temporary directory (removed after the test), and the training baseline of `baselineOf`. */
async function emptyLog(t: TestContext): Promise<{ logDir: string; baseline: MonitorBaseline }> {
  const dir = await makeTempDir(t.after.bind(t));
  const logDir = join(dir, 'predictions');
  await mkdir(logDir);
  return { logDir, baseline: await baselineOf(dir) };
}

/** Hourly windows of model `m` with the profiles and scanned, and which windows the profiles served. */
async function hourly(logDir: string, baseline: MonitorBaseline): Promise<{ profiled: WindowAnalysis[]; scanned: WindowAnalysis[]; served: boolean[] }> {
  return withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir: logDir }, { model: 'm' });
    const opened = await openLogProfiles(db, log);
    assert.ok(opened, 'the log has profiles');
    const served: boolean[] = [];
    const profiles: LogProfiles = { ...opened, counts: async (range, columns) => { const counts = await opened.counts(range, columns); served.push(counts !== undefined); return counts; } };
    const profiled = await analyseWindows(db, log.relation, baseline, { window: { kind: 'hourly' }, profiles });
    await opened.close();
    return { profiled, scanned: await analyseWindows(db, log.relation, baseline, { window: { kind: 'hourly' } }), served };
  });
}

test('profiled windows equal the scan for every kind of value: NaN, ±inf, -0, NULLs, a key missing from a file, NUL and non-ASCII strings, UBIGINT, another model\'s file, groups without a version or role, schema features no file logs', async (t) => {
  const { logDir, baseline } = await emptyLog(t);
  await withDuckDB(async (db) => {
    await logFile(db, join(logDir, 'predictions-0.parquet'), 0);
    await logFile(db, join(logDir, 'predictions-1.parquet'), 0, { rows: 150 });
    // Hour 1: a file without the key `s`, and another model's file (other fields) in the same hour.
    await logFile(db, join(logDir, 'predictions-2.parquet'), 1, { features: '{wide: (i * 1000003)::BIGINT, f: (i % 7)::DOUBLE, b: i % 2 = 0, u: (i % 9)::UBIGINT}' });
    await logFile(db, join(logDir, 'predictions-3.parquet'), 1, { model: 'other', features: '{zz: 1.5}', rows: 10 });
    // Hour 2: rows with no version and no role (the reader keeps them when it does not filter on those).
    await logFile(db, join(logDir, 'predictions-4.parquet'), 2, { version: 'NULL', role: 'NULL' });
  });
  const windows = await hourly(logDir, baseline);
  assert.deepEqual(windows.served, [true, true, true]);
  assert.deepEqual(windows.profiled.map((w) => w.rows), [350, 200, 200]);
  assertSameWindows(windows.profiled, windows.scanned);
});

test('a profile of another layout (an older or newer version) is left out and its file scanned: monitoring does not fail', async (t) => {
  const { logDir, baseline } = await emptyLog(t);
  await withDuckDB(async (db) => {
    await logFile(db, join(logDir, 'predictions-0.parquet'), 0);
    await logFile(db, join(logDir, 'predictions-1.parquet'), 1, { profiled: false });
    await db.run(`COPY (SELECT 'file' AS kind, 200::BIGINT AS rows, 7::INTEGER AS version) TO ${sqlString(profilePath(join(logDir, 'predictions-1.parquet')))} (FORMAT PARQUET)`);
  });
  const windows = await hourly(logDir, baseline);
  assert.deepEqual(windows.served, [true, false]);
  assertSameWindows(windows.profiled, windows.scanned);
});
