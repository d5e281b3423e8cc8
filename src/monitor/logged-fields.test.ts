import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { structFieldsOf } from './logged-fields.js';

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
