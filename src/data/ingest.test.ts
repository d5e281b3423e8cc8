import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoomError } from '../core/errors.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { ingestComponent } from './component.js';
import { sqlString, withDuckDB } from './duckdb.js';
import { ingestSnapshot, type IngestRequest } from './ingest.js';
import { calendarDerivations } from './ingest-query.js';
import { testServices } from '../../test/support/services.js';

const FEATURES = { hour: 'hour(date)', weekday: 'dayofweek(date)', distance: 'distance', origin: 'origin', delayed: 'delay > 15' };

async function count(sql: string): Promise<number> {
  return withDuckDB(async (db) => Number((await db.runAndReadAll(sql)).getRowObjects()[0].n));
}

async function rejects(work: Promise<unknown>, code: string, pattern: RegExp): Promise<LoomError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof LoomError, `expected a LoomError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.describe(), pattern);
    return error;
  }
  assert.fail('expected a rejection');
}

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await makeTempDir(t.after.bind(t));
  const parquet = join(dir, 'janfeb.parquet');
  const csv = join(dir, 'janfeb.csv');
  await writeFlightsSlice(parquet, { months: [1, 2], every: 100 });
  await writeFlightsSlice(csv, { months: [1, 2], every: 100 });
  return { dir, parquet, csv };
}

test('a time split on Parquet matches independent counts, derives columns and keeps the unselected split column out', async (t) => {
  const { dir, parquet } = await setup(t);
  const out = join(dir, 'out');
  const result = await ingestSnapshot({ source: parquet, select: FEATURES, split: { kind: 'time', column: 'date', evalFrom: '2001-02-01' } }, out);
  const src = `read_parquet(${sqlString(parquet)})`;
  assert.equal(result.rowCounts.train, await count(`SELECT count(*) AS n FROM ${src} WHERE date < TIMESTAMP '2001-02-01'`));
  assert.equal(result.rowCounts.eval, await count(`SELECT count(*) AS n FROM ${src} WHERE date >= TIMESTAMP '2001-02-01'`));
  assert.ok(result.rowCounts.train > 4000 && result.rowCounts.eval > 4000);
  assert.deepEqual(result.columns, [
    { name: 'hour', type: 'BIGINT' },
    { name: 'weekday', type: 'BIGINT' },
    { name: 'distance', type: 'BIGINT' },
    { name: 'origin', type: 'VARCHAR' },
    { name: 'delayed', type: 'BOOLEAN' },
  ]);
  assert.equal(result.timeRange, '2001-01-01..2001-02-28');
  assert.equal(result.span, 0, 'no span given or derived');
  assert.equal(result.sourceKind, 'parquet');
  assert.deepEqual(result.files, [parquet]);
  assert.equal(result.badRows, 0);
  assert.deepEqual(result.splits, ['train', 'eval']);
  for (const split of ['train', 'eval'] as const) {
    const file = sqlString(join(out, split, 'data.parquet'));
    assert.equal(await count(`SELECT count(*) AS n FROM read_parquet(${file})`), result.rowCounts[split]);
  }
  // Derived values agree with the source, checked on eval: delayed flights in February.
  assert.equal(
    await count(`SELECT count(*) AS n FROM read_parquet(${sqlString(join(out, 'eval', 'data.parquet'))}) WHERE delayed`),
    await count(`SELECT count(*) AS n FROM ${src} WHERE date >= TIMESTAMP '2001-02-01' AND delay > 15`),
  );
});

test('a time split on CSV with a filter on a select alias matches independent counts', async (t) => {
  const { dir, csv } = await setup(t);
  const result = await ingestSnapshot(
    { source: csv, select: FEATURES, where: "hour >= 12 AND origin <> 'ORD'", split: { kind: 'time', column: 'date', evalFrom: '2001-02-15T00:00:00' } },
    join(dir, 'out'),
  );
  const src = `read_csv(${sqlString(csv)})`;
  const filter = "hour(date) >= 12 AND origin <> 'ORD'";
  assert.equal(result.rowCounts.train, await count(`SELECT count(*) AS n FROM ${src} WHERE ${filter} AND date < TIMESTAMP '2001-02-15'`));
  assert.equal(result.rowCounts.eval, await count(`SELECT count(*) AS n FROM ${src} WHERE ${filter} AND date >= TIMESTAMP '2001-02-15'`));
});

test('a hash split matches an independent md5 computation in JavaScript', async (t) => {
  const { dir, parquet } = await setup(t);
  const result = await ingestSnapshot({ source: parquet, split: { kind: 'hash', key: 'origin', evalPercent: 20 } }, join(dir, 'out'));
  const groups = await withDuckDB(async (db) =>
    (await db.runAndReadAll(`SELECT origin, count(*)::INTEGER AS n FROM read_parquet(${sqlString(parquet)}) GROUP BY origin`)).getRowObjects(),
  );
  let evalRows = 0;
  let trainRows = 0;
  for (const { origin, n } of groups) {
    const bucket = parseInt(createHash('md5').update(String(origin)).digest('hex').slice(0, 8), 16) % 10000;
    if (bucket < 2000) evalRows += Number(n);
    else trainRows += Number(n);
  }
  assert.deepEqual(result.rowCounts, { train: trainRows, eval: evalRows });
  assert.equal(result.timeRange, '');
  assert.deepEqual(
    result.columns.map((c) => c.name),
    ['date', 'delay', 'distance', 'origin', 'destination'],
  );
});

test('a snapshot is deterministic: same bytes and hash twice, and from CSV as from Parquet', async (t) => {
  const { dir, parquet, csv } = await setup(t);
  const request = (source: string): IngestRequest => ({ source, select: FEATURES, split: { kind: 'time', column: 'date', evalFrom: '2001-02-01' } });
  const first = await ingestSnapshot(request(parquet), join(dir, 'a'));
  const second = await ingestSnapshot(request(parquet), join(dir, 'b'));
  assert.match(first.contentHash, /^[0-9a-f]{64}$/);
  assert.equal(second.contentHash, first.contentHash);
  for (const split of ['train', 'eval']) {
    const a = await readFile(join(dir, 'a', split, 'data.parquet'));
    const b = await readFile(join(dir, 'b', split, 'data.parquet'));
    assert.ok(a.equals(b), `${split} files differ`);
  }
  const hash = createHash('sha256');
  for (const split of ['train', 'eval']) {
    hash.update(`${split}\u0000`).update(await readFile(join(dir, 'a', split, 'data.parquet'))).update('\u0000');
  }
  assert.equal(first.contentHash, hash.digest('hex'));
  // The same rows read from a CSV, in reverse order, give the same snapshot.
  const reversed = join(dir, 'reversed.csv');
  await withDuckDB((db) => db.run(`COPY (SELECT * FROM read_csv(${sqlString(csv)}) ORDER BY date DESC) TO ${sqlString(reversed)} (HEADER)`));
  const fromCsv = await ingestSnapshot(request(reversed), join(dir, 'c'));
  assert.equal(fromCsv.contentHash, first.contentHash);
});

test('bad sources are named with their problem', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const split = { kind: 'time', column: 'date', evalFrom: '2001-02-01' } as const;
  const missing = join(dir, 'nope.parquet');
  await rejects(ingestSnapshot({ source: missing, split }, join(dir, 'o1')), 'NOT_FOUND', new RegExp(missing));

  const empty = join(dir, 'empty.csv');
  await writeFile(empty, '');
  await rejects(ingestSnapshot({ source: empty, split }, join(dir, 'o2')), 'INVALID_ARGUMENT', /empty\.csv" is empty: it has no rows/);

  const headerOnly = join(dir, 'header.csv');
  await writeFile(headerOnly, 'date,delay,distance,origin,destination\n');
  await rejects(ingestSnapshot({ source: headerOnly, split: { kind: 'hash', key: 'origin', evalPercent: 10 } }, join(dir, 'o3')), 'INVALID_ARGUMENT', /header\.csv" has no rows/);

  await rejects(ingestSnapshot({ source: join(dir, 'data.xlsx'), split }, join(dir, 'o4')), 'INVALID_ARGUMENT', /unknown file type/);
});

test('a bad ingest request names every bad field by its path, before any file is read', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const bad = { source: join(dir, 'never-read.parquet'), split: { kind: 'hash', key: 'origin', evalPercent: 150 }, maxBadRowFraction: 2 } as unknown as IngestRequest;
  const error = await rejects(ingestSnapshot(bad, join(dir, 'o')), 'INVALID_ARGUMENT', /ingest request: split\.evalPercent: .*; maxBadRowFraction: /);
  assert.equal(error.field, 'split.evalPercent');
  assert.ok(error.fix, 'the error says where the parameters are described');
});

test('a malformed CSV gets a readable message naming the file and the line', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const good = join(dir, 'good.csv');
  await writeFlightsSlice(good, { months: [1], every: 20 }); // more rows than DuckDB's sniffing sample
  const lines = (await readFile(good, 'utf8')).split('\n');
  const split = { kind: 'hash', key: 'origin', evalPercent: 10 } as const;

  const late = join(dir, 'late.csv');
  await writeFile(late, [...lines.slice(0, 24000), '2001-01-20 10:00:00,12,300,SFO', ...lines.slice(24000)].join('\n'));
  const error = await rejects(ingestSnapshot({ source: late, split }, join(dir, 'o1')), 'INVALID_ARGUMENT', /late\.csv" line 24001/);
  assert.match(error.message, /expected 5 fields, found 4/);
  assert.doesNotMatch(error.message, /Possible fixes|LINE 1:|\n/);

  const early = join(dir, 'early.csv');
  await writeFile(early, [...lines.slice(0, 50), '2001-01-20 10:00:00,12,300,SFO', ...lines.slice(50, 1000)].join('\n'));
  // Within the sniffer's sample, the bad row is still found and named (not a layout failure).
  await rejects(ingestSnapshot({ source: early, split }, join(dir, 'o2')), 'INVALID_ARGUMENT', /early\.csv" line 51 .*expected 5 fields, found 4/);
});

test('unknown columns, bad split settings and splits that leave a side empty are rejected', async (t) => {
  const { dir, parquet } = await setup(t);
  const time = { kind: 'time', column: 'date', evalFrom: '2001-02-01' } as const;
  const out = join(dir, 'out');
  const e1 = await rejects(ingestSnapshot({ source: parquet, select: { ...FEATURES, hour: 'hour(departure)' }, split: time }, out), 'INVALID_ARGUMENT', /select\.hour refers to an unknown column "departure"[\s\S]*date, delay, distance, origin, destination/);
  assert.equal(e1.field, 'select.hour');
  const e2 = await rejects(ingestSnapshot({ source: parquet, where: 'carrier = 1', split: time }, out), 'INVALID_ARGUMENT', /where refers to an unknown column "carrier"/);
  assert.equal(e2.field, 'where');
  await rejects(ingestSnapshot({ source: parquet, split: { ...time, column: 'departed' } }, out), 'INVALID_ARGUMENT', /split\.column refers to an unknown column "departed"[\s\S]*use one of: date, delay/);
  await rejects(ingestSnapshot({ source: parquet, split: { kind: 'hash', key: 'tail', evalPercent: 5 } }, out), 'INVALID_ARGUMENT', /split\.key .*"tail"/);
  await rejects(ingestSnapshot({ source: parquet, split: { ...time, column: 'delay' } }, out), 'INVALID_ARGUMENT', /"delay" is BIGINT, not a DATE or TIMESTAMP/);
  await rejects(ingestSnapshot({ source: parquet, split: { ...time, evalFrom: 'March' } }, out), 'INVALID_ARGUMENT', /split\.evalFrom: expected an ISO date/);
  const smuggled = join(dir, 'smuggled.csv');
  const injection = `1 = 1); COPY (SELECT 1) TO ${sqlString(smuggled)}; SELECT (1`;
  await rejects(ingestSnapshot({ source: parquet, where: injection, split: time }, out), 'INVALID_ARGUMENT', /where must be a single SQL expression/);
  await assert.rejects(stat(smuggled), /ENOENT/);
  await rejects(
    ingestSnapshot({ source: parquet, split: { ...time, evalFrom: '2001-07-01' } }, out),
    'INVALID_ARGUMENT',
    /leaves eval empty: "date" ranges from 2001-01-01 \d\d:\d\d:\d\d to 2001-02-28/,
  );
  await rejects(ingestSnapshot({ source: parquet, split: { ...time, evalFrom: '2000-12-01' } }, out), 'INVALID_ARGUMENT', /leaves train empty/);
  await rejects(ingestSnapshot({ source: parquet, where: 'distance < 0', split: time }, out), 'INVALID_ARGUMENT', /where keeps none of the \d+ rows/);
});

test('the ingest component writes an Examples artifact into its staging directory', async (t) => {
  const { dir, parquet } = await setup(t);
  const staging = join(dir, 'staging');
  const services = testServices();
  const parameters = ingestComponent.parameters.parse({ source: parquet, select: FEATURES, split: { kind: 'hash', key: 'origin', evalPercent: 25 } });
  const result = await ingestComponent.execute({ inputs: {}, outputs: { examples: staging }, parameters }, services);
  const properties = result.properties.examples;
  assert.deepEqual(Object.keys(properties).sort(), ['badRows', 'columns', 'contentHash', 'files', 'quarantine', 'rowCounts', 'source', 'sourceKind', 'span', 'splits', 'timeRange']);
  const rowCounts = properties.rowCounts as Record<string, number>;
  assert.equal(await count(`SELECT count(*) AS n FROM read_parquet(${sqlString(join(staging, 'train', 'data.parquet'))})`), rowCounts.train);
  assert.equal(properties.source, parquet);
});

test('a select that derives a calendar part in SQL is named, so the hint can point at the datetime analyzer', () => {
  assert.deepEqual(calendarDerivations({ hour: 'hour(date)', wd: 'DAYOFWEEK (date)', part: "date_part('month', date)", date: 'date', distance: 'distance', hourly: 'hours_flown' }), ['hour', 'wd', 'part']);
  assert.deepEqual(calendarDerivations(undefined), []);
});
