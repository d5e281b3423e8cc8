import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ParquetPredictionSink } from '../serve/prediction-sinks.js';
import { openFreshPostgres, openTestPlatform, postgresTestUrl } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import type { LoomError } from '../core/errors.js';
import type { Platform } from '../platform/platform.js';
import { loadLabels } from './label-loader.js';
import type { NewLabel } from './label-store.js';

const T0 = Date.UTC(2026, 0, 5, 8);
const HOUR = 3_600_000;

/** A log of four predictions: flight UA1 at 8:00 and 10:00, DL2 at 9:00, and UA1 of another model; `features` names the flight's fields. */
async function writeLog(dir: string, features = (flight: string): Record<string, string> => ({ flight, origin: 'SFO' })): Promise<void> {
  const sink = new ParquetPredictionSink(dir);
  const row = (requestId: string, flight: string, at: number, model = 'flights') => ({
    requestId,
    modelName: model,
    modelVersion: 1,
    role: 'primary' as const,
    protocol: 'v2',
    features: JSON.stringify(features(flight)),
    outputs: JSON.stringify({ probability: 0.3 }),
    latencyMs: 0.2,
    loggedAt: at,
  });
  await sink.write([row('a', 'UA1', T0), row('b', 'DL2', T0 + HOUR), row('c', 'UA1', T0 + 2 * HOUR), row('x', 'UA1', T0 + 2.5 * HOUR, 'other')]);
  await sink.close();
}

/** A platform in a temporary directory (closed after the test) whose prediction log holds `writeLog`'s four predictions. */
async function loggedPlatform(t: TestContext): Promise<{ dir: string; db: Platform; location: { kind: 'parquet'; dir: string } }> {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const logDir = join(dir, 'predictions');
  await writeLog(logDir);
  return { dir, db, location: { kind: 'parquet', dir: logDir } };
}

test('labels load from a file by request id, and from a query by entity and time with a point-in-time join', async (t) => {
  const { dir, db, location } = await loggedPlatform(t);

  const csv = join(dir, 'labels.csv');
  await writeFile(csv, 'request_id,delayed\na,1\nb,0\n');
  assert.deepEqual(await loadLabels(db.labels, location, { model: 'flights', source: { file: csv }, labelColumn: 'delayed' }), { rows: 2, written: 2, unmatched: 0 });
  const byId = await db.labels.getLabels(['a', 'b']);
  assert.deepEqual([byId.get('a')!.label, byId.get('b')!.label, byId.get('a')!.source], [1, 0, `load:${csv}`]);

  // UA1 at 9:30 belongs to the 8:00 prediction (the 10:00 one came later); at 11:00 to the 10:00 one
  // (not to the other model's); DL2 at 8:30 had no prediction yet.
  const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  const sql = `SELECT * FROM (VALUES ('UA1', TIMESTAMP '${iso(T0 + 1.5 * HOUR)}', true), ('UA1', TIMESTAMP '${iso(T0 + 3 * HOUR)}', false), ('DL2', TIMESTAMP '${iso(T0 + 0.5 * HOUR)}', true)) AS v(flight, arrived_at, late)`;
  const result = await loadLabels(db.labels, location, { model: 'flights', source: { sql }, labelColumn: 'late', entity: { keys: ['flight'], timeColumn: 'arrived_at' } });
  assert.deepEqual(result, { rows: 3, written: 2, unmatched: 1 });
  const byEntity = await db.labels.getLabels(['a', 'c', 'x']);
  assert.deepEqual([byEntity.get('a')!.label, byEntity.get('a')!.observedAt, byEntity.get('c')!.label, byEntity.has('x')], [1, T0 + 1.5 * HOUR, 0, false]);
});

test('a missing column is refused naming it, before anything is written', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const csv = join(dir, 'labels.csv');
  await writeFile(csv, 'id,label\na,1\n');
  await assert.rejects(loadLabels(db.labels, { kind: 'parquet', dir: join(dir, 'none') }, { model: 'flights', source: { file: csv } }), { code: 'INVALID_ARGUMENT', field: 'requestIdColumn' });
  assert.equal((await db.labels.getLabels(['a'])).size, 0);
});

test('a bad label file or query is refused naming the row or the source and the fix, and nothing of it is written', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const location = { kind: 'parquet' as const, dir: join(dir, 'none') };
  const load = (file: string, text: string, labelColumn = 'label') =>
    writeFile(join(dir, file), text).then(() => loadLabels(db.labels, location, { model: 'flights', source: { file: join(dir, file) }, labelColumn }));
  const rows = (n: number, label = (i: number) => String(i % 2)) => Array.from({ length: n }, (_, i) => `r${i},${label(i)}`).join('\n');
  // Past the first batches, so a half-written store would show: a text label in the last row.
  await assert.rejects(load('text.csv', `request_id,label\n${rows(25_000, (i) => (i === 24_999 ? 'yes' : String(i % 2)))}\n`), (error: LoomError) => {
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.field, 'label');
    assert.match(error.message, /Line: 25001.*"yes"/);
    assert.ok(error.fix);
    return true;
  });
  // A torn last line (a copy cut short): a row with no label.
  await assert.rejects(load('torn.csv', `request_id,label\n${rows(100)}\nr100`), { code: 'INVALID_ARGUMENT', field: 'source', message: /one column named "request_id,label": .*torn last line/ });
  await assert.rejects(load('cut.csv', `request_id,label\n${rows(100)}\nr100,`), { code: 'INVALID_ARGUMENT', field: 'label', message: /row 101 .*no label/ });
  await assert.rejects(load('torn.ndjson', '{"request_id": "r0", "label": 1}\n{"request_id": "r1", "label": 0}\n{"request_id": "r2", "la'), { code: 'INVALID_ARGUMENT', field: 'source' });
  // NaN reads as a number, so only the check of every row before writing keeps the first 20,000 out of the store.
  await assert.rejects(load('nan.csv', `request_id,label\n${rows(25_000, (i) => (i === 24_999 ? 'nan' : `${i % 2}.0`))}\n`), { code: 'INVALID_ARGUMENT', field: 'label', message: /row 25000 of the labels has the label NaN/ });
  await assert.rejects(load('long.csv', `request_id,label\n${'x'.repeat(201)},1\n`), { code: 'INVALID_ARGUMENT', field: 'request_id', message: /row 1/ });
  await assert.rejects(load('empty.csv', ''), { code: 'INVALID_ARGUMENT' });
  // A query that is valid SQL but fails as it runs.
  const sql = (query: string) => loadLabels(db.labels, location, { model: 'flights', source: { sql: query } });
  await assert.rejects(sql(`SELECT 'r0' AS request_id, CASE WHEN random() < 2 THEN error('the warehouse is down') ELSE 1 END AS label`), { code: 'INVALID_ARGUMENT', field: 'source', message: /the warehouse is down/ });
  await assert.rejects(sql('SELECT * FROM no_such_table'), { code: 'INVALID_ARGUMENT', field: 'source' });
  assert.equal(await db.labels.countLabels('flights'), 0, 'nothing of a refused load is written');
});

/** 25,000 labels loaded: in pages, written whole, `written` the distinct request ids. */
async function loadsInPages(db: Platform, dir: string) {
  // 25,000 rows; r7 given again 20,000 rows later (another page), with another label.
  const lines = Array.from({ length: 25_000 }, (_, i) => (i === 20_007 ? 'r7,0' : `r${i},${i % 2}`));
  const csv = join(dir, 'labels.csv');
  await writeFile(csv, `request_id,label\n${lines.join('\n')}\n`);
  const batches: number[] = [];
  const recording = new Proxy(db.labels, {
    get: (store, key) =>
      key === 'putLabelBatches'
        ? async (source: AsyncIterable<readonly NewLabel[]>, name: string) => {
            async function* counted() {
              for await (const batch of source) {
                batches.push(batch.length);
                yield batch;
              }
            }
            return store.putLabelBatches(counted(), name);
          }
        : key === 'putLabels'
          ? () => assert.fail('a load is written in batches, never handed to the store whole')
          : Reflect.get(store, key, store),
  });
  const result = await loadLabels(recording, { kind: 'parquet', dir: join(dir, 'none') }, { model: 'flights', source: { file: csv } });
  assert.deepEqual(result, { rows: 25_000, written: 24_999, unmatched: 0 });
  assert.ok(batches.length >= 3 && Math.max(...batches) <= 10_000, `batches of at most a page: ${batches.join(', ')}`);
  assert.equal(batches.reduce((sum, n) => sum + n, 0), 24_999, 'each request id reaches the store once, r7 too');
  assert.equal(await db.labels.countLabels('flights'), 24_999);
  const r7 = (await db.labels.getLabels(['r7'])).get('r7')!;
  assert.equal(r7.label, 0, 'the later row of r7 wins over the earlier (label 1)');
}

test('a large load reaches the store a page at a time, in one transaction; written counts distinct request ids, the last row of an id winning (SQLite)', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  await loadsInPages(db, dir);
});

const pgUrl = postgresTestUrl('label loader');
test('a large load reaches the store a page at a time (PostgreSQL)', { skip: pgUrl ? false : 'no PostgreSQL' }, async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openFreshPostgres(pgUrl!);
  t.after(() => db.close());
  await loadsInPages(db, dir);
});

test('a file with many bad rows is refused naming the first, how many are bad and where', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const bad = new Set([2, 9, 12_000, 12_001, 12_002, 12_003, 12_004, 12_005, 12_006, 12_007, 12_008, 24_999]);
  const csv = join(dir, 'labels.csv');
  await writeFile(csv, `request_id,label\n${Array.from({ length: 25_000 }, (_, i) => `r${i},${bad.has(i) ? 'nan' : `${i % 2}.0`}`).join('\n')}\n`);
  await assert.rejects(loadLabels(db.labels, { kind: 'parquet', dir: join(dir, 'none') }, { model: 'flights', source: { file: csv } }), (error: LoomError) => {
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.field, 'label');
    assert.match(error.message, /^row 3 of the labels has the label NaN, not a number or boolean \(12 bad rows in all: rows 3, 10, 12001, 12002, 12003, 12004, 12005, 12006, 12007, 12008, …\)$/);
    assert.ok(error.fix);
    return true;
  });
  assert.equal(await db.labels.countLabels('flights'), 0);
});

test('by entity and time, rows are named and the last row of a request id wins in the source order, not the join order', async (t) => {
  const { dir, db, location } = await loggedPlatform(t);
  const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  const load = (values: string) =>
    loadLabels(db.labels, location, { model: 'flights', source: { sql: `SELECT * FROM (VALUES ${values}) AS v(flight, arrived_at, late)` }, labelColumn: 'late', entity: { keys: ['flight'], timeColumn: 'arrived_at' } });
  // Both rows belong to prediction a (UA1 at 8:00); the join answers them by time, the later time first in the source.
  await load(`('UA1', TIMESTAMP '${iso(T0 + 1.75 * HOUR)}', 1), ('UA1', TIMESTAMP '${iso(T0 + 1.5 * HOUR)}', 0)`);
  const a = (await db.labels.getLabels(['a'])).get('a')!;
  assert.deepEqual([a.label, a.observedAt], [0, T0 + 1.5 * HOUR], "the source's last row of a wins");
  // The second row of the source has no label: it is row 2, wherever the join puts it.
  await assert.rejects(load(`('UA1', TIMESTAMP '${iso(T0 + 3 * HOUR)}', 1), ('UA1', TIMESTAMP '${iso(T0 + 1.5 * HOUR)}', NULL)`), { code: 'INVALID_ARGUMENT', field: 'late', message: /^row 2 of the labels has no label/ });
  // Many rows, shuffled against the entities' and times' order: the one bad row is named by its place in the source.
  const many = Array.from({ length: 30_000 }, (_, i) => {
    const at = T0 + ((i * 7_919) % 30_000) * 1_000;
    return `('${i % 2 === 0 ? 'UA1' : 'DL2'}', TIMESTAMP '${iso(at + 3 * HOUR)}', ${i === 21_345 ? 'NULL' : i % 2})`;
  });
  await assert.rejects(load(many.join(', ')), { code: 'INVALID_ARGUMENT', field: 'late', message: /^row 21346 of the labels has no label/ });
  // A time that is not one is refused naming the time column, not the source.
  const csv = join(dir, 'late.csv');
  await writeFile(csv, `flight,arrived_at,late\nUA1,${iso(T0 + HOUR)},1\nUA1,tomorrow,0\n`);
  await assert.rejects(loadLabels(db.labels, location, { model: 'flights', source: { file: csv }, labelColumn: 'late', entity: { keys: ['flight'], timeColumn: 'arrived_at' } }), {
    code: 'INVALID_ARGUMENT',
    field: 'arrived_at',
    message: /"tomorrow"/,
    fix: /"arrived_at" column a time/,
  });
  assert.equal((await db.labels.getLabels(['a'])).get('a')!.label, 0, 'the refused loads left the first as it was');
});

/**
 * Columns named as the loader's own (`__t`, `__label`, `__row`, `__id`, `rowid`) or the log's
 * (`request_id`, `logged_at`) load as any other: as entity keys, time and label, and as request id and label.
 */
async function loadsColumnsNamedAsInternals(db: Platform, dir: string) {
  const logDir = join(dir, 'predictions');
  // Each entity a flight and its carrier, under names that clash.
  const keys = ['__t', '__label', 'rowid', 'request_id', 'logged_at'];
  await writeLog(logDir, (flight) => Object.fromEntries(keys.map((k, i) => [k, `${flight}-${i}`])));
  const location = { kind: 'parquet' as const, dir: logDir };
  const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  const entity = (flight: string) => keys.map((_, i) => `'${flight}-${i}'`).join(', ');
  const values = [`(${entity('UA1')}, TIMESTAMP '${iso(T0 + 1.5 * HOUR)}', 1)`, `(${entity('UA1')}, TIMESTAMP '${iso(T0 + 3 * HOUR)}', 0)`, `(${entity('DL2')}, TIMESTAMP '${iso(T0 + 0.5 * HOUR)}', 1)`];
  const sql = `SELECT * FROM (VALUES ${values.join(', ')}) AS v(${keys.map((k) => `"${k}"`).join(', ')}, "__row", "__id")`;
  assert.deepEqual(await loadLabels(db.labels, location, { model: 'flights', source: { sql }, labelColumn: '__id', entity: { keys, timeColumn: '__row' } }), { rows: 3, written: 2, unmatched: 1 });
  const byEntity = await db.labels.getLabels(['a', 'b', 'c']);
  assert.deepEqual([byEntity.get('a')?.label, byEntity.get('a')?.observedAt, byEntity.get('c')?.label, byEntity.has('b')], [1, T0 + 1.5 * HOUR, 0, false]);

  // By request id: the id in a column named `__label` beside one named `__id`, then in `rowid` with the label in `__id`.
  const csv = join(dir, 'labels.csv');
  await writeFile(csv, '__id,__label,rowid,__t\n9,a,0,x\n9,b,1,y\n');
  assert.deepEqual(await loadLabels(db.labels, location, { model: 'flights', source: { file: csv }, labelColumn: 'rowid', requestIdColumn: '__label' }), { rows: 2, written: 2, unmatched: 0 });
  const byLabelColumn = await db.labels.getLabels(['a', 'b']);
  assert.deepEqual([byLabelColumn.get('a')?.label, byLabelColumn.get('b')?.label], [0, 1]);
  await writeFile(csv, 'rowid,__id,__observed\nb,0,x\nc,1,y\n');
  assert.deepEqual(await loadLabels(db.labels, location, { model: 'flights', source: { file: csv }, labelColumn: '__id', requestIdColumn: 'rowid' }), { rows: 2, written: 2, unmatched: 0 });
  const byRowid = await db.labels.getLabels(['b', 'c']);
  assert.deepEqual([byRowid.get('b')?.label, byRowid.get('c')?.label], [0, 1]);
}

test("columns named as the loader's own internal columns load as any other, by entity and by request id (SQLite)", async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  await loadsColumnsNamedAsInternals(db, dir);
});

test("columns named as the loader's own internal columns load as any other (PostgreSQL)", { skip: pgUrl ? false : 'no PostgreSQL' }, async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openFreshPostgres(pgUrl!);
  t.after(() => db.close());
  await loadsColumnsNamedAsInternals(db, dir);
});
