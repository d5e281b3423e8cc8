import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { inferSchema, readSchemaFile, writeSchemaFile, type Schema } from './schema.js';
import { computeStatistics } from './statistics.js';

async function janStats(dir: string) {
  const path = join(dir, 'jan.parquet');
  await writeFlightsSlice(path, { months: [1], every: 100 });
  return { path, stats: await computeStatistics(path) };
}

test('a schema inferred from flights statistics has types, presence and airport domains', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { path, stats } = await janStats(dir);
  const schema = inferSchema(stats, { label: 'delay' });
  assert.equal(schema.version, 1);
  assert.equal(schema.label, 'delay');
  assert.deepEqual(
    schema.features.map((f) => [f.name, f.type, f.required, f.maxUnseenShare]),
    [
      ['date', 'TIMESTAMP', true, 0.01],
      ['delay', 'INT', true, 0.01],
      ['distance', 'INT', true, 0.01],
      ['origin', 'STRING', true, 0.01],
      ['destination', 'STRING', true, 0.01],
    ],
  );
  const airports = await withDuckDB(async (db) =>
    (await db.runAndReadAll(`SELECT DISTINCT origin FROM read_parquet(${sqlString(path)}) ORDER BY origin`)).getRowObjects().map((r) => String(r.origin)),
  );
  assert.deepEqual(schema.features[3].domain, airports);
  // Drift and skew comparators as TFDV: L-infinity for strings, Jensen-Shannon for numbers; the label is not served.
  assert.deepEqual(
    schema.features.map((f) => [f.name, f.drift?.measure, f.skew?.threshold, f.notInEnvironment]),
    [
      ['date', undefined, undefined, undefined],
      ['delay', 'jensen_shannon', 0.1, ['SERVING']],
      ['distance', 'jensen_shannon', 0.1, undefined],
      ['origin', 'linf', 0.1, undefined],
      ['destination', 'linf', 0.1, undefined],
    ],
  );
  assert.deepEqual([schema.environments, schema.rowCount], [['TRAINING', 'SERVING'], { min: 1 }]);
  assert.equal(schema.features[1].domain, undefined);
  assert.equal(schema.features[1].range, undefined);

  // A string with more distinct values than the limit gets no domain.
  const narrow = inferSchema(stats, { maxDomainSize: 50 });
  assert.equal(narrow.features[3].domain, undefined);
  assert.equal(narrow.label, undefined);

  assert.throws(() => inferSchema(stats, { label: 'late' }), (e: unknown) => e instanceof LoomError && e.code === 'INVALID_ARGUMENT' && /late/.test(e.message));
});

test('a schema file round-trips, is pretty and is written atomically', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { stats } = await janStats(dir);
  const schema: Schema = inferSchema(stats, { label: 'delay' });
  schema.features[2] = { ...schema.features[2], range: { min: 0, max: 6000 }, description: 'great-circle miles' };
  const file = join(dir, 'repo', 'schemas', 'flights.schema.json');
  await writeSchemaFile(file, schema);
  assert.deepEqual(await readSchemaFile(file), schema);
  const text = await readFile(file, 'utf8');
  assert.ok(text.startsWith('{\n  "version": 1,\n  "label": "delay",\n  "environments": [\n    "TRAINING",\n    "SERVING"\n  ],\n  "rowCount": {\n    "min": 1\n  },\n  "features": ['), text.slice(0, 200));
  assert.ok(text.endsWith('}\n'));
  assert.deepEqual(await readdir(join(dir, 'repo', 'schemas')), ['flights.schema.json']);
  // Rewriting replaces the file whole.
  await writeSchemaFile(file, { version: 1, features: [] });
  assert.deepEqual(await readSchemaFile(file), { version: 1, features: [] });
});

test('maxUnseenShare defaults to 0.01 when a hand-written file leaves it out', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const file = join(dir, 'schema.json');
  await writeFile(file, JSON.stringify({ version: 1, features: [{ name: 'origin', type: 'STRING', required: true, domain: ['SFO'] }] }));
  const schema = await readSchemaFile(file);
  assert.equal(schema.features[0].maxUnseenShare, 0.01);
});

test('a bad schema file gets an error naming the file, the field and the problem', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const file = join(dir, 'schema.json');
  const feature = { name: 'origin', type: 'STRING', required: true };
  const cases: [unknown, RegExp][] = [
    [{ version: 1, features: [feature, { name: 'distance', type: 'NUMBER', required: true }] }, /invalid: features\[1\]\.type \(feature "distance"\): .*INT/],
    [{ version: 1, features: [{ ...feature, requried: false }] }, /invalid: features\[0\]\.requried \(feature "origin"\): Unrecognized key: "requried"/],
    [{ version: 1, features: [feature, feature] }, /features\[1\]\.name .*listed twice/],
    [{ version: 1, label: 'delay', features: [feature] }, /invalid: label: label "delay" is not one of the features/],
    [{ version: 1, features: [{ name: 'delay', type: 'INT', required: true, domain: ['1'] }] }, /features\[0\]\.domain .*only allowed for STRING/],
    [{ version: 1, features: [{ name: 'delay', type: 'INT', required: true, range: { min: 5, max: 1 } }] }, /features\[0\]\.range .*must not exceed/],
    [{ version: 2, features: [] }, /invalid: version: /],
    [{ version: 1, features: [{ ...feature, drift: { measure: 'ks', threshold: 0.05 } }] }, /invalid: features\[0\]\.drift\.measure \(feature "origin"\): "ks" needs a number feature/],
    [{ version: 1, features: [{ ...feature, skew: { measure: 'l_inf' } }] }, /invalid: features\[0\]\.skew\.measure \(feature "origin"\): .*"linf"/],
    [{ version: 1, features: [{ ...feature, drift: { measure: 'psi', threshold: -1 } }] }, /invalid: features\[0\]\.drift\.threshold/],
    [{ version: 1, features: [{ ...feature, notInEnvironment: ['SERVNG'] }] }, /invalid: features\[0\]\.notInEnvironment\[0\] \(feature "origin"\): "SERVNG" is not one of the environments TRAINING, SERVING/],
    [{ version: 1, features: [{ ...feature, minFraction: 0.5 }] }, /invalid: features\[0\]\.minFraction .*set "required": false/],
    [{ version: 1, features: [{ ...feature, allowNonFinite: true }] }, /invalid: features\[0\]\.allowNonFinite .*only allowed for FLOAT/],
    [{ version: 1, rowCount: { min: 10, max: 5 }, features: [feature] }, /invalid: rowCount: rowCount\.min must not exceed rowCount\.max/],
    [{ version: 1, features: [{ name: 'date', type: 'TIMESTAMP', required: true, drift: { measure: 'linf' } }] }, /invalid: features\[0\]\.drift .*TIMESTAMP/],
  ];
  for (const [content, pattern] of cases) {
    await writeFile(file, JSON.stringify(content));
    await assert.rejects(readSchemaFile(file), (e: unknown) => {
      assert.ok(e instanceof LoomError);
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.ok(e.message.includes(file), e.message);
      assert.match(e.message, pattern);
      return true;
    });
  }
  await writeFile(file, '{ "version": 1, "features": [ }');
  await assert.rejects(readSchemaFile(file), (e: unknown) => e instanceof LoomError && e.code === 'INVALID_ARGUMENT' && /not valid JSON/.test(e.message));
  await assert.rejects(readSchemaFile(join(dir, 'none.json')), (e: unknown) => e instanceof LoomError && e.code === 'NOT_FOUND');
});
