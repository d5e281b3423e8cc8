import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import { flightsParquetPath } from '../data/datasets.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { openFreshKysely } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { KyselyLabelStore } from './kysely-label-store.js';
import type { LabelStore } from './label-store.js';
import { profilePath, writeLogProfile } from './log-profile-write.js';
import { openLogProfiles, scoreCountsFromProfiles } from './log-profiles.js';
import { openPredictionLog } from './prediction-log-reader.js';
import { readQualityRows, type LoggedQualityRows } from './quality-rows.js';
import { loggedValue, structFields } from './logged-fields.js';
import type { WindowSpec } from './windows.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 5);
const PER_FILE = 1200;

/**
 * Three columnar log files of flights rows, one row a second: files 0 and 1 in hour 0, file 2
 * in hour 1. Scores that repeat (rounded), with NULLs, NaN and -0 among them.
 */
async function writeLog(db: DuckDBConnection, dir: string): Promise<string[]> {
  await db.run(`CREATE TABLE log AS SELECT row_number() OVER () - 1 AS i, * FROM (SELECT delay, distance, origin FROM read_parquet(${sqlString(flightsParquetPath())}) WHERE month(date) = 2 LIMIT ${PER_FILE * 3})`);
  const files: string[] = [];
  for (let f = 0; f < 3; f++) {
    const file = join(dir, `predictions-${f}.parquet`);
    const shift = f === 2 ? HOUR : 0;
    await db.run(`COPY (SELECT 'r' || i AS request_id, 'flights' AS model_name, 1 AS model_version, 'primary' AS role, 'v2' AS protocol,
        {delay: delay, distance: distance, origin: origin} AS features,
        {probability: CASE WHEN i % 101 = 0 THEN NULL WHEN i % 103 = 0 THEN 'NaN'::DOUBLE WHEN i % 107 = 0 THEN -0.0 ELSE round(distance / 3000.0, 2) END} AS outputs,
        0.5 AS latency_ms, epoch_ms(${START} + i * 1000 + ${shift}) AS logged_at
      FROM log WHERE i // ${PER_FILE} = ${f}) TO ${sqlString(file)} (FORMAT PARQUET)`);
    files.push(file);
  }
  return files;
}

/** The log's quality rows as quality-run.ts reads them, with its profiles or without. */
async function read(logDir: string, labels: LabelStore, window: WindowSpec, withProfiles: boolean): Promise<LoggedQualityRows> {
  return withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir: logDir }, { model: 'flights', version: 1 });
    const profiles = withProfiles ? await openLogProfiles(db, log) : undefined;
    try {
      const outputs = await structFields(db, log.relation, 'outputs');
      const request = { model: 'flights', window, score: loggedValue('outputs', outputs, 'probability', 'FLOAT'), features: { origin: `struct_extract(features, 'origin')` } };
      return await readQualityRows(db, log.relation, labels, { ...request, ...(profiles && { profiled: { profiles, output: 'probability', fieldType: outputs!.get('probability')! } }) });
    } finally {
      await profiles?.close();
      await log.close();
    }
  });
}

test("windows' scores counted from the profiles equal those scanned, bit for bit; a window they cannot serve is scanned", async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const fresh = await openFreshKysely();
  t.after(() => fresh.close());
  const labels = new KyselyLabelStore(fresh.db);
  await labels.putLabels(['r3', 'r5', 'r1500', 'r2500'].map((requestId, k) => ({ requestId, modelName: 'flights', label: k % 2 })), 'feedback');
  const files = await withDuckDB(async (db) => {
    const written = await writeLog(db, dir);
    for (const file of written) await writeLogProfile(db, file);
    return written;
  });
  // File 2's profile gone: hour 1 cannot be served by the profiles, hour 0 can.
  await rm(profilePath(files[2]!));
  const served = await withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights', version: 1 });
    const profiles = (await openLogProfiles(db, log))!;
    const fieldType = (await structFields(db, log.relation, 'outputs'))?.get('probability');
    const hours = [0, 1].map((h) => ({ from: START + h * HOUR, to: START + (h + 1) * HOUR }));
    const counted = await Promise.all(hours.map(async (range) => (await scoreCountsFromProfiles(db, profiles, range, 'probability', fieldType)) !== undefined));
    await profiles.close();
    await log.close();
    return counted;
  });
  assert.deepEqual(served, [true, false], 'hour 0 from the profiles, hour 1 scanned');
  for (const window of [{ kind: 'hourly' }, { kind: 'daily' }, { kind: 'requests', size: 10_000 }, { kind: 'requests', size: 1000 }] satisfies WindowSpec[]) {
    const [profiled, scanned] = [await read(dir, labels, window, true), await read(dir, labels, window, false)];
    assert.ok(scanned.windows.length > 0 && scanned.windows.some((w) => w.scores.scores.some((s) => Object.is(s, 0) || Number.isNaN(s))), 'the scores hold NaN or zero');
    // The labelled rows come from the same scan either way (in no set order): the windows are what the profiles change.
    assert.deepStrictEqual(profiled.windows, scanned.windows, `${window.kind} windows`);
    assert.equal(profiled.labelled.scores.length, scanned.labelled.scores.length);
  }
  // Every profile back: the daily window (all three files) is served whole, with the same counts.
  await withDuckDB((db) => writeLogProfile(db, files[2]!).then(() => undefined));
  assert.deepStrictEqual((await read(dir, labels, { kind: 'daily' }, true)).windows, (await read(dir, labels, { kind: 'daily' }, false)).windows);
});
