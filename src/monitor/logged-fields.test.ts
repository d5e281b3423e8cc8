import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { numericOutputFields, structFieldsOf } from './logged-fields.js';

test("structFieldsOf: each STRUCT column's fields with DESCRIBE's type names (a JSON field is JSON, a nested STRUCT as DESCRIBE writes it), fields of the same name in both columns kept apart; a JSON column has none", async () => {
  await withDuckDB(async (db) => {
    const relation = `SELECT {delay: 1::BIGINT, origin: 'SFO', extra: '{}'::JSON, "odd name": {x: 1.5}} AS features, {delay: 0.5::DOUBLE} AS outputs, '{}'::JSON AS other`;
    const described = async (column: string) => new Map((await queryRows(db, `DESCRIBE SELECT ${column}.* FROM (${relation})`)).map((r) => [String(r.column_name), String(r.column_type)]));
    const both = await structFieldsOf(db, relation, ['features', 'outputs']);
    assert.deepEqual([...both.keys()], ['features', 'outputs']);
    assert.deepEqual(both.get('features'), await described('features'));
    assert.deepEqual(both.get('outputs'), new Map([['delay', 'DOUBLE']]));
    assert.equal(both.get('features')!.get('extra'), 'JSON');
    const json = await structFieldsOf(db, `SELECT other AS features, outputs FROM (${relation})`, ['features', 'outputs']);
    assert.deepEqual([json.get('features'), json.get('outputs')], [undefined, new Map([['delay', 'DOUBLE']])]);
  });
});

test('structFieldsOf: fields of flat types are named from the result types as DESCRIBE names them (JSON, DECIMAL, ENUM, timestamps, unsigned), a list of JSON as DESCRIBE does', async () => {
  await withDuckDB(async (db) => {
    const flat = `{b: true, t: 1::TINYINT, s: 1::SMALLINT, i: 1::INTEGER, l: 1::BIGINT, h: 1::HUGEINT, ut: 1::UTINYINT, us: 1::USMALLINT, ui: 1::UINTEGER, ul: 1::UBIGINT, uh: 1::UHUGEINT,
      f: 1::FLOAT, d: 1::DOUBLE, dec: 1.5::DECIMAL(18,3), v: 'x', j: '{}'::JSON, blob: 'x'::BLOB, u: uuid(), e: 'a'::ENUM('a', 'b'), bit: '101'::BITSTRING,
      date: today(), time: '10:00'::TIME, ttz: '10:00'::TIMETZ, iv: INTERVAL 1 DAY, ts: now()::TIMESTAMP, tss: now()::TIMESTAMP_S, tsn: now()::TIMESTAMP_NS, tstz: now()}`;
    for (const features of [flat, `{j: ['{}'::JSON], d: 1::DOUBLE}`]) {
      const relation = `SELECT ${features} AS features, {p: 0.5} AS outputs`;
      const described = new Map((await queryRows(db, `DESCRIBE SELECT features.* FROM (${relation})`)).map((r) => [String(r.column_name), String(r.column_type)]));
      assert.deepEqual((await structFieldsOf(db, relation, ['features'])).get('features'), described);
    }
  });
});

test("numericOutputFields: a STRUCT's numeric fields (NULLs looked for, no JSON written) are those its JSON text gives, for every flat type, NULL, NaN, ±inf, huge and odd names", async () => {
  await withDuckDB(async (db) => {
    const rows = [
      `{t: 1::TINYINT, i: 2::INTEGER, uh: 340282366920938463463374607431768211455::UHUGEINT, h: -170141183460469231731687303715884105727::HUGEINT, f: 'NaN'::FLOAT, d: 'inf'::DOUBLE,
        dec: 1.5::DECIMAL(18,3), "Zeta é": -0.0::DOUBLE, "a b": 1::UBIGINT, late: NULL::DOUBLE, gone: 1::BIGINT, b: true, v: '1.5'}`,
      `{t: 3::TINYINT, i: NULL::INTEGER, uh: 0::UHUGEINT, h: 0::HUGEINT, f: 1::FLOAT, d: '-inf'::DOUBLE, dec: NULL::DECIMAL(18,3), "Zeta é": 2::DOUBLE, "a b": 2::UBIGINT,
        late: 0.5::DOUBLE, gone: 2::BIGINT, b: false, v: 'x'}`,
    ];
    const relation = `SELECT unnest([${rows.join(', ')}, NULL]) AS outputs`;
    const fields = (await structFieldsOf(db, relation, ['outputs'])).get('outputs');
    assert.ok(fields);
    const fromStruct = await numericOutputFields(db, relation, fields);
    const fromJson = await numericOutputFields(db, `SELECT outputs::JSON AS outputs FROM (${relation})`, undefined);
    assert.deepEqual(fromStruct, fromJson);
    assert.deepEqual(fromStruct, ['Zeta é', 'a b', 'd', 'f', 'gone', 'h', 't', 'uh']);
    // A field of another type (a nested STRUCT) is read as JSON: the same answer.
    const nested = `SELECT struct_insert(outputs, n := {x: 1}) AS outputs FROM (${relation}) WHERE outputs IS NOT NULL`;
    assert.deepEqual(await numericOutputFields(db, nested, (await structFieldsOf(db, nested, ['outputs'])).get('outputs')), fromJson);
  });
});
