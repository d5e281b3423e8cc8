import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoomError } from '../core/errors.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { sqlString, withDuckDB } from './duckdb.js';
import { ingestSnapshot, type IngestRequest } from './ingest.js';

const split = { kind: 'hash', key: 'origin', evalPercent: 20 } as const;

/** Real flight rows as lines, edited in place: `edits` maps a 1-based line number to its new bytes. */
async function editedFile(path: string, lines: string[], edits: Record<number, Buffer | string>): Promise<void> {
  const parts = lines.map((line, i) => {
    const edit = edits[i + 1];
    return Buffer.concat([typeof edit === 'string' ? Buffer.from(edit) : (edit ?? Buffer.from(line)), Buffer.from('\n')]);
  });
  await writeFile(path, Buffer.concat(parts));
}

/** The line with its origin airport's first letter replaced by a lone Latin-1 byte (not UTF-8). */
function badlyEncoded(line: string, origin: string): Buffer {
  const at = line.indexOf(`,${origin},`) + 1;
  return Buffer.concat([Buffer.from(line.slice(0, at)), Buffer.from([0xc9]), Buffer.from(line.slice(at + 1))]);
}

interface Reject {
  file: string;
  line: number;
  reason: string;
  message: string;
  raw: string;
}
async function rejectsIn(outDir: string): Promise<Reject[]> {
  return (await readFile(join(outDir, 'quarantine', 'rejects.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Reject);
}

async function rejection(work: Promise<unknown>): Promise<LoomError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof LoomError, `expected a LoomError, got ${String(error)}`);
  return error;
}

test('CSV: too few and too many fields, an unparseable value and bad encoding are counted, sampled with line numbers, and judged by the threshold', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const clean = join(dir, 'clean.csv');
  const total = await writeFlightsSlice(clean, { months: [1], every: 40 });
  const lines = (await readFile(clean, 'utf8')).trimEnd().split('\n');
  const fields = (n: number) => lines[n - 1]!.split(',');
  const source = join(dir, 'edited.csv');
  await editedFile(source, lines, {
    100: fields(100).slice(0, 4).join(','),
    200: [...fields(200), 'N123AA'].join(','),
    300: [fields(300)[0], 'late', ...fields(300).slice(2)].join(','),
    400: badlyEncoded(lines[399]!, fields(400)[3]!),
  });
  const base: IngestRequest = { source: { kind: 'file', path: source, columns: { delay: 'BIGINT' } }, split };

  const strict = await rejection(ingestSnapshot(base, join(dir, 'strict')));
  assert.equal(strict.code, 'INVALID_ARGUMENT');
  assert.match(strict.message, /edited\.csv" line 100 .*expected 5 fields, found 4; 4 bad rows of \d+ read \(1 bad_encoding, 1 too_few_columns, 1 too_many_columns, 1 unparseable_value\) is more than maxBadRows 0/);

  const out = join(dir, 'kept');
  const kept = await ingestSnapshot({ ...base, maxBadRows: 4 }, out);
  assert.equal(kept.rowCounts.train + kept.rowCounts.eval, total - 4, 'every other row is kept');
  assert.deepEqual(kept.quarantine, {
    badRows: 4,
    rowsRead: total,
    badRowFraction: 4 / total,
    byReason: { bad_encoding: 1, too_few_columns: 1, too_many_columns: 1, unparseable_value: 1 },
    sampleRows: 4,
    file: 'quarantine/rejects.ndjson',
  });
  const rejects = await rejectsIn(out);
  assert.deepEqual(rejects.map((r) => [r.line, r.reason]), [[100, 'too_few_columns'], [200, 'too_many_columns'], [300, 'unparseable_value'], [400, 'bad_encoding']]);
  assert.equal(rejects[0]!.raw, fields(100).slice(0, 4).join(','), 'the line as it is in the file');
  assert.match(rejects[2]!.message, /"delay".*"late"/);
  assert.equal(rejects[0]!.file, source);

  // The edited rows are the ones missing: the good rows equal the clean file without them.
  const missing = await withDuckDB(async (db) => {
    const reader = await db.runAndReadAll(`SELECT count(*)::INT AS n FROM read_csv(${sqlString(clean)}) c
      ANTI JOIN read_parquet(${sqlString(join(out, '*', 'data.parquet'))}) k USING (date, delay, distance, origin, destination)`);
    return Number(reader.getRowObjects()[0]!.n);
  });
  assert.equal(missing, 4);

  const byFraction = await rejection(ingestSnapshot({ ...base, maxBadRowFraction: 3 / total }, join(dir, 'fraction')));
  assert.match(byFraction.message, /is more than maxBadRowFraction/);
  const sampled = await ingestSnapshot({ ...base, maxBadRowFraction: 0.01, quarantineSample: 2 }, join(dir, 'sampled'));
  assert.equal(sampled.badRows, 4);
  assert.deepEqual((await rejectsIn(join(dir, 'sampled'))).map((r) => r.line), [100, 200]);
});

test('NDJSON: malformed JSON, a line that is not an object, an unparseable value and bad encoding are quarantined with their true line numbers', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const clean = join(dir, 'clean.ndjson');
  const parquet = join(dir, 'jan.parquet');
  const total = await writeFlightsSlice(parquet, { months: [1], every: 200 });
  await withDuckDB((db) => db.run(`COPY (SELECT * FROM read_parquet(${sqlString(parquet)})) TO ${sqlString(clean)} (FORMAT JSON)`));
  const lines = (await readFile(clean, 'utf8')).trimEnd().split('\n');
  const record = (n: number) => JSON.parse(lines[n - 1]!) as Record<string, unknown>;
  const source = join(dir, 'edited.ndjson');
  await editedFile(source, lines, {
    // Bad encoding first: the reader drops that line, and the lines after it must keep their numbers.
    40: badlyEncoded(lines[39]!, String(record(40).origin)),
    50: lines[49]!.slice(0, -10),
    60: JSON.stringify(Object.values(record(60))),
    70: JSON.stringify({ ...record(70), delay: 'late' }),
    80: '',
  });
  const out = join(dir, 'out');
  const result = await ingestSnapshot({ source: { kind: 'file', path: source, columns: { delay: 'BIGINT' } }, split, maxBadRows: 10 }, out);
  assert.equal(result.rowCounts.train + result.rowCounts.eval, total - 5, 'four bad lines and one blank line');
  assert.deepEqual(result.quarantine.byReason, { bad_encoding: 1, malformed_json: 1, not_an_object: 1, unparseable_value: 1 });
  const rejects = await rejectsIn(out);
  assert.deepEqual(rejects.map((r) => [r.line, r.reason]), [[40, 'bad_encoding'], [50, 'malformed_json'], [60, 'not_an_object'], [70, 'unparseable_value']]);
  assert.equal(rejects[1]!.raw, lines[49]!.slice(0, -10));
  assert.match(rejects[3]!.message, /cannot convert .*"delay" to BIGINT/);
  assert.deepEqual(result.columns.map((c) => c.name), ['date', 'delay', 'distance', 'origin', 'destination']);

  const refused = await rejection(ingestSnapshot({ source: { kind: 'file', path: source, columns: { delay: 'BIGINT' } }, split, maxBadRowFraction: 0.001 }, join(dir, 'refused')));
  assert.match(refused.message, /NDJSON file ".*edited\.ndjson" line 40 .*4 bad rows/);
});
