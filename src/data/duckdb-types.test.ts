// The classifier against the type names DuckDB itself reports for real columns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows, withDuckDB } from './duckdb.js';
import { duckdbTypeKind, isNumericType, isTimeType, timeColumnAs, type DuckDBTypeKind } from './duckdb-types.js';

const columns: [string, DuckDBTypeKind][] = [
  ['TINYINT', 'integer'],
  ['SMALLINT', 'integer'],
  ['INTEGER', 'integer'],
  ['BIGINT', 'integer'],
  ['HUGEINT', 'integer'],
  ['UTINYINT', 'integer'],
  ['UBIGINT', 'integer'],
  ['UHUGEINT', 'integer'],
  ['FLOAT', 'float'],
  ['DOUBLE', 'float'],
  ['DECIMAL(18,3)', 'float'],
  ['BOOLEAN', 'boolean'],
  ['VARCHAR', 'string'],
  ["ENUM('a', 'b')", 'string'],
  ['DATE', 'time'],
  ['TIMESTAMP', 'time'],
  ['TIMESTAMP_S', 'time'],
  ['TIMESTAMP_MS', 'time'],
  ['TIMESTAMP_NS', 'time'],
  ['TIMESTAMPTZ', 'time'],
  ['TIME', 'other'],
  ['BLOB', 'other'],
  ['INTEGER[]', 'other'],
  ['STRUCT(a INTEGER)', 'other'],
];

test('every DuckDB column type is classified as DESCRIBE names it', async () => {
  const described = await withDuckDB(async (db) => {
    await db.run(`CREATE TABLE t (${columns.map(([type], i) => `c${i} ${type}`).join(', ')})`);
    return queryRows(db, 'SELECT column_name, column_type FROM (DESCRIBE t)');
  });
  assert.equal(described.length, columns.length);
  for (const row of described) {
    const [declared, expected] = columns[Number(String(row.column_name).slice(1))]!;
    assert.equal(duckdbTypeKind(String(row.column_type)), expected, `${declared} (DuckDB says ${String(row.column_type)})`);
  }
});

test('numeric and time shortcuts; case and spaces do not matter', () => {
  assert.deepEqual(['bigint', ' DOUBLE ', 'DECIMAL(9,2)', 'BOOLEAN', 'VARCHAR'].map(isNumericType), [true, true, true, false, false]);
  assert.deepEqual(['date', 'TIMESTAMP WITH TIME ZONE', 'TIME', 'VARCHAR'].map(isTimeType), [true, true, false, false]);
});

test('time columns read as a model takes timestamps: ISO 8601 text (wall clock, or the instant in UTC with Z) and epoch milliseconds', async () => {
  const values: [string, string, string, number][] = [
    ['DATE', "DATE '1969-07-20'", '1969-07-20', -14_256_000_000],
    ['TIMESTAMP', "TIMESTAMP '2001-01-15 08:30:45.678'", '2001-01-15T08:30:45', 979_547_445_678],
    ['TIMESTAMP_NS', "TIMESTAMP_NS '2001-01-15 08:30:45'", '2001-01-15T08:30:45', 979_547_445_000],
    ['TIMESTAMP WITH TIME ZONE', "TIMESTAMPTZ '2001-01-15 08:30:45+05:30'", '2001-01-15T03:00:45Z', 979_527_645_000],
  ];
  await withDuckDB(async (db) => {
    await db.run("SET TimeZone = 'America/Chicago'");
    for (const [type, literal, text, ms] of values) {
      await db.run(`CREATE OR REPLACE TABLE t AS SELECT ${literal} AS c`);
      const [described] = await queryRows(db, 'DESCRIBE SELECT c FROM t');
      assert.equal(described!.column_type, type);
      const [row] = await queryRows(db, `SELECT ${timeColumnAs('c', type, 'string')} AS text, ${timeColumnAs('c', type, 'int64')} AS ms FROM t`);
      assert.deepEqual([row!.text, Number(row!.ms)], [text, ms], type);
    }
  });
});
