import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { makeTempDir } from '../../test/support/flights.js';
import { readSource, sqlString, streamSelect, withDuckDB, type StreamSelect } from './duckdb.js';

const ROWS = 2_000_000;
/** 1-based: deep enough that DuckDB has streamed well over a million rows before it meets it. */
const BAD_ROW = 1_500_001;

/** `s` is text holding an integer on every row, but 'x' on `badRow` (if given); `i` is the 0-based row. */
async function writeNumbers(path: string, badRow?: number): Promise<void> {
  const bad = badRow === undefined ? -1 : badRow - 1;
  await withDuckDB((db) => db.run(`COPY (SELECT CASE WHEN i = ${bad} THEN 'x' ELSE (i % 1000)::VARCHAR END AS s, i FROM range(${ROWS}) t(i)) TO ${sqlString(path)}`));
}

/** Streams every chunk of `select`; resolves to the rows and the sum of column 0. */
async function streamAll(path: string, select: Omit<StreamSelect, 'from' | 'description'>): Promise<{ rows: number; sum: number }> {
  return withDuckDB(async (db) => {
    const stream = await streamSelect(db, { ...select, from: readSource(path), description: path });
    let rows = 0;
    let sum = 0;
    try {
      for (let chunk = await stream.nextChunk(); chunk; chunk = await stream.nextChunk()) {
        rows += chunk.rowCount;
        for (const value of chunk.getColumnValues(0)) sum += Number(value);
      }
    } catch (error) {
      // Asked again, a failed stream fails again rather than looking finished.
      await assert.rejects(stream.nextChunk(), (again) => again === error);
      throw error;
    }
    return { rows, sum };
  });
}

const asInteger = [{ name: 's', expression: 'CAST(s AS INTEGER)' }];

test('streamSelect: a value DuckDB cannot cast deep in a Parquet file fails the stream, naming the row and column', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const bad = join(dir, 'bad.parquet');
  await writeNumbers(bad, BAD_ROW);
  // Without the check, the bindings end this stream after ~1.3M rows as if it were finished.
  await assert.rejects(streamAll(bad, { columns: asInteger, fix: 'correct the file' }), (error: unknown) => {
    assert.ok(error instanceof LoomError, String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.field, 's');
    assert.equal(error.fix, 'correct the file');
    assert.match(error.message, new RegExp(`row ${BAD_ROW} of .*bad\\.parquet, column "s": Conversion Error: Could not convert string 'x' to INT32`));
    return true;
  });

  const good = join(dir, 'good.parquet');
  await writeNumbers(good);
  const expectedSum = (ROWS / 1000) * ((999 * 1000) / 2);
  assert.deepEqual(await streamAll(good, { columns: asInteger }), { rows: ROWS, sum: expectedSum });
  // A count given by the caller is checked the same way.
  assert.deepEqual(await streamAll(good, { columns: asInteger, rows: ROWS }), { rows: ROWS, sum: expectedSum });
  await assert.rejects(streamAll(bad, { columns: asInteger, rows: ROWS }), { code: 'INVALID_ARGUMENT', field: 's' });
  // A count taken before the input changed (a stale one given by the caller stands for a file rewritten while read): said so, with both counts.
  await assert.rejects(streamAll(good, { columns: asInteger, rows: ROWS + 5 }), (error: unknown) => {
    assert.ok(error instanceof LoomError, String(error));
    assert.equal(error.code, 'FAILED_PRECONDITION');
    assert.match(error.message, new RegExp(`good\\.parquet changed while it was read \\(${ROWS + 5} rows when counted, ${ROWS} now\\)`));
    assert.match(error.fix ?? '', /dataset version/);
    return true;
  });
});

test('streamSelect: a CSV whose column stops matching its sniffed type deep inside fails, never ends short', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const parquet = join(dir, 'bad.parquet');
  await writeNumbers(parquet, BAD_ROW);
  const csv = join(dir, 'bad.csv');
  await withDuckDB((db) => db.run(`COPY (SELECT * FROM read_parquet(${sqlString(parquet)})) TO ${sqlString(csv)} (FORMAT CSV, HEADER)`));
  // DuckDB sniffs `s` as a number from the first rows; the scan itself fails at 'x'.
  await assert.rejects(streamAll(csv, { columns: [{ name: 's', expression: 's' }] }), (error: unknown) => {
    assert.ok(error instanceof LoomError, String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.match(error.message, /bad\.csv/);
    return true;
  });
});
