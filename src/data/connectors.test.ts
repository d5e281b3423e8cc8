import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { LoomError } from '../core/errors.js';
import { randomSchemaName, dropSchema, postgresTestUrl } from '../../test/support/databases.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { sqlString, withDuckDB } from './duckdb.js';
import { ingestSnapshot, type IngestRequest } from './ingest.js';
import { describeSource } from './source-spec.js';

const FEATURES = { hour: 'hour(date)', weekday: 'dayofweek(date)', distance: 'distance', origin: 'origin', delayed: 'delay > 15' };
const split = { kind: 'time', column: 'date', evalFrom: '2001-02-01' } as const;
const request = (source: IngestRequest['source']): IngestRequest => ({ source, select: FEATURES, split });

test('CSV, Parquet, NDJSON, a directory and a glob of the same flights give the same dataset version, whatever the file order', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const whole = join(dir, 'janfeb.parquet');
  const rows = await writeFlightsSlice(whole, { months: [1, 2], every: 150 });
  const reference = await ingestSnapshot(request(whole), join(dir, 'out-parquet'));
  assert.equal(reference.rowCounts.train + reference.rowCounts.eval, rows);

  const csv = join(dir, 'janfeb.csv');
  const ndjson = join(dir, 'janfeb.ndjson');
  await withDuckDB(async (db) => {
    await db.run(`COPY (SELECT * FROM read_parquet(${sqlString(whole)})) TO ${sqlString(csv)} (FORMAT CSV, HEADER)`);
    // Newest first: a reader that kept file order would give other bytes.
    await db.run(`COPY (SELECT * FROM read_parquet(${sqlString(whole)}) ORDER BY date DESC) TO ${sqlString(ndjson)} (FORMAT JSON)`);
  });
  // A directory of monthly files whose names sort February first.
  const monthly = join(dir, 'monthly');
  await mkdir(monthly);
  await writeFlightsSlice(join(monthly, 'b-january.csv'), { months: [1], every: 150 });
  await writeFlightsSlice(join(monthly, 'a-february.csv'), { months: [2], every: 150 });

  const sources: [string, IngestRequest['source']][] = [
    ['csv', csv],
    ['ndjson', { kind: 'file', path: ndjson }],
    ['directory', { kind: 'file', path: monthly }],
    ['glob', { kind: 'file', glob: join(monthly, '*.csv'), format: 'csv' }],
  ];
  for (const [name, source] of sources) {
    const result = await ingestSnapshot(request(source), join(dir, `out-${name}`));
    assert.equal(result.contentHash, reference.contentHash, `${name} gives the same version`);
    assert.equal(result.badRows, 0);
  }
  const fromDirectory = await ingestSnapshot(request({ kind: 'file', path: monthly }), join(dir, 'out-dir-2'));
  assert.deepEqual(fromDirectory.files, [join(monthly, 'a-february.csv'), join(monthly, 'b-january.csv')]);
  assert.equal(fromDirectory.sourceKind, 'csv');
});

test('a recorded PostgreSQL source never shows its password', () => {
  assert.equal(describeSource({ kind: 'postgres', url: 'postgres://loom:s3cret@db.example:5432/warehouse', table: 'public.flights' }), 'postgres://loom:***@db.example:5432/warehouse table public.flights');
});

test('source specs are validated before anything is read', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const bad: [unknown, RegExp][] = [
    [{ kind: 'file' }, /source\.path: give exactly one of path or glob/],
    [{ kind: 'file', path: 'a-{SPAN}.csv' }, /\{SPAN\} pattern belongs in glob/],
    [{ kind: 'postgres', url: 'mysql://x' }, /source\.url: expected a postgres:\/\/ URL/],
    [{ kind: 'postgres', url: 'postgres://x/db', table: 't', query: 'select 1' }, /give exactly one of table or query/],
    [{ kind: 'postgres', url: 'postgres://x/db', table: 't; drop table x' }, /expected a table name/],
    [{ kind: 's3', path: 'x' }, /source/],
  ];
  for (const [source, pattern] of bad) {
    await assert.rejects(ingestSnapshot({ source, split } as IngestRequest, join(dir, 'o')), (e: LoomError) => e.code === 'INVALID_ARGUMENT' && pattern.test(e.message));
  }
  await assert.rejects(ingestSnapshot({ source: { kind: 'file', glob: join(dir, '*.parquet') }, split }, join(dir, 'o')), (e: LoomError) => e.code === 'NOT_FOUND');
});

const url = postgresTestUrl('the PostgreSQL connector');
if (url) {
  test('a PostgreSQL table and a query are streamed through COPY and give the same version as the same rows from a file', async (t) => {
    const dir = await makeTempDir(t.after.bind(t));
    const parquet = join(dir, 'janfeb.parquet');
    const csv = join(dir, 'janfeb.csv');
    await writeFlightsSlice(parquet, { months: [1, 2], every: 150 });
    await writeFlightsSlice(csv, { months: [1, 2], every: 150 });
    const schema = randomSchemaName();
    t.after(() => dropSchema(url, schema));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`CREATE TABLE "${schema}".flights (date timestamp, delay bigint, distance bigint, origin text, destination text)`);
      await pipeline(createReadStream(csv), client.query(copyFrom(`COPY "${schema}".flights FROM STDIN WITH (FORMAT csv, HEADER true)`)));
      // An empty string is a value, not a missing one; NULL stays NULL.
      await client.query(`CREATE TABLE "${schema}".edge (id int, note text, at timestamptz, ok boolean, amount numeric)`);
      await client.query(`INSERT INTO "${schema}".edge VALUES (1, '', '2001-01-01 12:00:00+02', true, 1.5), (2, NULL, NULL, false, NULL), (3, 'a,"b"', '2001-01-02 00:00:00+00', NULL, -2)`);
    } finally {
      await client.end();
    }
    const reference = await ingestSnapshot(request(parquet), join(dir, 'ref'));
    const table = await ingestSnapshot(request({ kind: 'postgres', url, table: `${schema}.flights` }), join(dir, 'table'));
    assert.equal(table.contentHash, reference.contentHash);
    assert.equal(table.sourceKind, 'postgres');
    assert.deepEqual(table.files, []);
    const query = await ingestSnapshot(
      { source: { kind: 'postgres', url, query: `SELECT * FROM "${schema}".flights WHERE origin = 'ORD'` }, select: FEATURES, split: { kind: 'hash', key: 'hour', evalPercent: 30 } },
      join(dir, 'query'),
    );
    const ordRows = await withDuckDB(async (db) => Number((await db.runAndReadAll(`SELECT count(*)::INT AS n FROM read_parquet(${sqlString(parquet)}) WHERE origin = 'ORD'`)).getRowObjects()[0]!.n));
    assert.equal(query.rowCounts.train + query.rowCounts.eval, ordRows);

    const edge = await ingestSnapshot({ source: { kind: 'postgres', url, table: `${schema}.edge` }, split: { kind: 'time', column: 'at', evalFrom: '2001-01-01T23:00:00' } }, join(dir, 'edge'));
    assert.deepEqual(edge.rowCounts, { train: 2, eval: 1 });
    assert.deepEqual(edge.columns, [
      { name: 'id', type: 'INTEGER' },
      { name: 'note', type: 'VARCHAR' },
      { name: 'at', type: 'TIMESTAMP WITH TIME ZONE' },
      { name: 'ok', type: 'BOOLEAN' },
      { name: 'amount', type: 'DOUBLE' },
    ]);
    const values = await withDuckDB(async (db) =>
      (await db.runAndReadAll(`SET TimeZone = 'UTC'; SELECT id, note, strftime("at", '%Y-%m-%d %H:%M') AS "at", ok, amount FROM read_parquet(${sqlString(join(dir, 'edge', '*', 'data.parquet'))}) ORDER BY id`)).getRowObjects(),
    );
    assert.deepEqual(values, [
      { id: 1, note: '', at: '2001-01-01 10:00', ok: true, amount: 1.5 },
      { id: 2, note: null, at: null, ok: false, amount: null },
      { id: 3, note: 'a,"b"', at: '2001-01-02 00:00', ok: null, amount: -2 },
    ]);
    assert.match(table.source, new RegExp(`table ${schema}\\.flights$`));
    await assert.rejects(
      ingestSnapshot(request({ kind: 'postgres', url, table: `${schema}.missing` }), join(dir, 'missing')),
      (e: LoomError) => e.code === 'INVALID_ARGUMENT' && /cannot read table .*missing/.test(e.message),
    );
  });
}
