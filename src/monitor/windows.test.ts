import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { queryRows, readSource, sqlString, withDuckDB } from '../data/duckdb.js';
import { ParquetPredictionSink } from '../serve/prediction-sinks.js';
import { inferSchema } from '../validate/schema.js';
import { computeStatistics, statisticsOfRelation } from '../validate/statistics.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { flightsLogRows } from '../../test/support/prediction-log.js';
import { runPythonJson, testPython } from '../../test/support/python.js';
import { openPredictionLog } from './prediction-log-reader.js';
import { VersionFits, type FitScope } from './version-fits.js';
import { analyseWindows, outputColumn, type MonitorBaseline } from './windows.js';

const SCRIPT = join(import.meta.dirname, '../../test/python/drift_reference.py');
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5);

type Reference = { categorical: Record<string, { linf: number }>; numeric: Record<string, { jensen_shannon: number }> };

async function setUp(dir: string) {
  const train = join(dir, 'train.parquet');
  await writeFlightsSlice(train, { months: [1], every: 50 });
  const statistics = await computeStatistics(train);
  const baseline: MonitorBaseline = { schema: inferSchema(statistics), statistics, trainingRows: `SELECT * FROM ${readSource(train)}` };
  // Day 1: January traffic; day 2: March traffic; 20 s apart so each day stays in its day.
  const day1 = await flightsLogRows({ months: [1], every: 400, start: START, stepMs: 20_000 });
  const day2 = await flightsLogRows({ months: [3], every: 400, start: START + DAY, stepMs: 20_000 });
  const logDir = join(dir, 'predictions');
  const sink = new ParquetPredictionSink(logDir);
  await sink.write([...day1, ...day2]);
  await sink.close();
  return { train, baseline, day1, day2, logDir };
}

/** The logged features of some rows as a CSV (what the Python reference reads). */
async function featuresCsv(path: string, rows: { features: string }[]): Promise<void> {
  await writeFile(path, ['delay,distance,origin,destination', ...rows.map((r) => { const f = JSON.parse(r.features); return `${f.delay},${f.distance},${f.origin},${f.destination}`; })].join('\n') + '\n');
}

test('daily windows of a flights prediction log: validation statistics, drift against training and the previous day as NumPy/SciPy compute them from the rows', async (t) => {
  const python = testPython();
  if (!python) return t.skip('LOOM_TEST_PYTHON is not set');
  const dir = await makeTempDir(t.after.bind(t));
  const { train, baseline, day1, day2, logDir } = await setUp(dir);
  const windows = await withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir: logDir }, { model: 'flights' });
    return analyseWindows(db, log.relation, baseline, { window: { kind: 'daily' } });
  });
  assert.deepEqual(windows.map((w) => [w.index, w.rows, w.start, w.end]), [
    [0, day1.length, START, day1.at(-1)!.loggedAt],
    [1, day2.length, START + DAY, day2.at(-1)!.loggedAt],
  ]);

  // The one statistics implementation: the window's statistics are those of its rows.
  const direct = await withDuckDB(async (db) =>
    statisticsOfRelation(db, `SELECT (j->>'delay')::BIGINT AS delay, (j->>'distance')::BIGINT AS distance, j->>'origin' AS origin, j->>'destination' AS destination FROM (SELECT unnest([${day2.map((r) => sqlString(r.features)).join(', ')}])::JSON AS j)`),
  );
  // (The schema's `date` is not among the logged features: all missing.)
  assert.deepEqual(windows[1]!.statistics.features.filter((f) => !f.name.startsWith('output:') && f.name !== 'date'), direct.features);
  assert.ok(windows[1]!.statistics.features.some((f) => f.name === outputColumn('probability')), 'outputs are summarised too');

  // Drift measures against the training rows and the previous window equal the Python reference's.
  const trainCsv = join(dir, 'train.csv');
  await withDuckDB((db) => db.run(`COPY (SELECT delay, distance, origin, destination FROM ${readSource(train)}) TO ${sqlString(trainCsv)} (FORMAT CSV, HEADER)`));
  await featuresCsv(join(dir, 'day1.csv'), day1);
  await featuresCsv(join(dir, 'day2.csv'), day2);
  const pairs = [
    { got: windows[1]!.training, reference: runPythonJson<Reference>(python, SCRIPT, [trainCsv, join(dir, 'day2.csv')]) },
    { got: windows[1]!.previous, reference: runPythonJson<Reference>(python, SCRIPT, [join(dir, 'day1.csv'), join(dir, 'day2.csv')]) },
  ];
  for (const { got, reference } of pairs) {
    for (const feature of ['delay', 'distance']) {
      const c = got.find((x) => x.feature === feature)!;
      assert.equal(c.measure, 'jensen_shannon', 'the inferred schema compares numbers by Jensen-Shannon');
      assert.ok(Math.abs(c.value - reference.numeric[feature]!.jensen_shannon) <= 1e-9, `${feature}: ${c.value} vs ${reference.numeric[feature]!.jensen_shannon}`);
    }
    const origin = got.find((x) => x.feature === 'origin')!;
    assert.equal(origin.measure, 'linf');
    assert.ok(Math.abs(origin.value - reference.categorical.origin!.linf) <= 1e-12);
  }
  assert.deepEqual(windows[0]!.previous, [], 'the first window has no previous one');
  assert.deepEqual(windows[1]!.prediction.map((p) => [p.feature, p.measure]), [['probability', 'jensen_shannon'], ['probability', 'ks']]);

  // Out of domain: the share of origins the training month never had.
  const domain = new Set(baseline.schema.features.find((f) => f.name === 'origin')!.domain);
  const unseen = day2.filter((r) => !domain.has(JSON.parse(r.features).origin)).length;
  assert.deepEqual(windows[1]!.outOfDomain.find((o) => o.feature === 'origin'), { feature: 'origin', count: unseen, share: unseen / day2.length });

  // PCA reconstruction: a band from ten training chunks, an error for every window.
  for (const w of windows) {
    const m = w.multivariate!;
    assert.ok(m.lower < m.upper && Number.isFinite(m.error) && m.error > 0, JSON.stringify(m));
    assert.equal(m.alert, m.error < m.lower || m.error > m.upper);
  }
});

test('windows of N requests cut the log in time order; an empty log has no windows', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { baseline, day1, day2, logDir } = await setUp(dir);
  const total = day1.length + day2.length;
  const [windows, none] = await withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir: logDir }, { model: 'flights' });
    const other = await openPredictionLog(db, { kind: 'parquet', dir: logDir }, { model: 'other' });
    return [await analyseWindows(db, log.relation, { ...baseline, trainingRows: undefined }, { window: { kind: 'requests', size: 500 } }), await analyseWindows(db, other.relation, baseline, { window: { kind: 'daily' } })];
  });
  assert.deepEqual(windows.map((w) => w.rows), [...Array.from({ length: Math.floor(total / 500) }, () => 500), ...(total % 500 ? [total % 500] : [])]);
  assert.equal(windows[0]!.start, START);
  assert.ok(windows.every((w, i) => i === 0 || w.start >= windows[i - 1]!.end));
  assert.equal(windows[0]!.multivariate, undefined, 'no training rows: no PCA');
  assert.deepEqual(none, []);
});

test('a columnar log (the writer’s layout) and a JSON log of the same rows give the same windows', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { baseline, day1, day2, logDir } = await setUp(dir);
  const described = await withDuckDB((db) => queryRows(db, `DESCRIBE SELECT features FROM read_parquet(${sqlString(join(logDir, '*.parquet'))})`));
  assert.match(String(described[0]!.column_type), /^STRUCT\(/, 'the sink writes the columnar layout');
  // The layout before it: features and outputs as JSON text.
  const jsonDir = join(dir, 'json-log');
  await mkdir(jsonDir);
  const values = [...day1, ...day2].map((r) => `(${sqlString(r.requestId)}, ${sqlString(r.features)}, ${sqlString(r.outputs)}, ${r.loggedAt})`).join(', ');
  await withDuckDB((db) =>
    db.run(`COPY (SELECT request_id, 'flights' AS model_name, 1 AS model_version, 'primary' AS role, 'v2' AS protocol, features::JSON AS features, outputs::JSON AS outputs, 0.5 AS latency_ms,
      epoch_ms(logged_at) AS logged_at FROM (VALUES ${values}) AS t(request_id, features, outputs, logged_at)) TO ${sqlString(join(jsonDir, 'predictions-0.parquet'))} (FORMAT PARQUET)`),
  );
  const analyse = (folder: string) =>
    withDuckDB(async (db) => analyseWindows(db, (await openPredictionLog(db, { kind: 'parquet', dir: folder }, { model: 'flights' })).relation, baseline, { window: { kind: 'daily' } }));
  const [columnar, json] = [await analyse(logDir), await analyse(jsonDir)];
  assert.equal(columnar.length, 2);
  assertClose(columnar, json, 'windows');
});

test("a version's PCA is fitted by its first analysis and kept for later ones, on other connections, with the same figures", async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { baseline, logDir } = await setUp(dir);
  const kept = new VersionFits().scope('drift', 'flights', dir);
  const fitted: string[] = [];
  const fits: FitScope = {
    get: (name, make) =>
      kept.get(name, () => {
        fitted.push(name);
        return make();
      }),
  };
  // Each analysis on its own connection, as `loom monitor` and the gauges' passes run them.
  const analyse = (withFits: boolean) =>
    withDuckDB(async (db) => analyseWindows(db, (await openPredictionLog(db, { kind: 'parquet', dir: logDir }, { model: 'flights' })).relation, baseline, { window: { kind: 'daily' }, ...(withFits && { fits }) }));
  const [unkept, first, later] = [await analyse(false), await analyse(true), await analyse(true)];
  // The PCA, and the training rows' value counts every window bins on its own edges.
  assert.deepEqual(fitted, ['reconstruction', 'training-value-counts'], 'each fit made once for the version');
  assert.equal(later.length, 2);
  assert.ok(later.every((w) => w.multivariate && w.multivariate.error > 0));
  assertClose(first, unkept, 'first window');
  assertClose(later, unkept, 'later window');
});

/** Deep equality with numbers equal to 1e-12 relative (sums in another order differ in the last bits). */
function assertClose(actual: unknown, expected: unknown, path: string): void {
  if (typeof actual === 'number' && typeof expected === 'number') {
    const ok = actual === expected || (Number.isNaN(actual) && Number.isNaN(expected)) || Math.abs(actual - expected) <= 1e-12 * Math.max(Math.abs(actual), Math.abs(expected));
    assert.ok(ok, `${path}: ${actual} vs ${expected}`);
  } else if (actual !== null && expected !== null && typeof actual === 'object' && typeof expected === 'object') {
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), path);
    for (const key of Object.keys(actual)) assertClose((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
  } else {
    assert.equal(actual, expected, path);
  }
}
