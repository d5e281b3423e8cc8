import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { FLIGHTS_PARQUET } from '../test/support/flights.js';
import { fitTransform } from '../src/transform/analyzers.js';
import { buildTransformGraph } from '../src/transform/graph.js';
import { applyTransform } from '../src/transform/apply.js';
import { trainLogisticRegression, predictLogisticRegression } from '../src/train/logistic-regression.js';

const dir = await mkdtemp(join(tmpdir(), 'bench-'));
const train = join(dir, 'train.parquet');
const evalp = join(dir, 'eval.parquet');
await withDuckDB(async (db) => {
  const derived = `SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS weekday, distance, origin, destination, delay > 15 AS delayed, month(date) AS m FROM read_parquet(${sqlString(FLIGHTS_PARQUET)})`;
  await db.run(`COPY (SELECT * EXCLUDE (m) FROM (${derived}) WHERE m = 1) TO ${sqlString(train)} (FORMAT PARQUET)`);
  await db.run(`COPY (SELECT * EXCLUDE (m) FROM (${derived}) WHERE m = 2) TO ${sqlString(evalp)} (FORMAT PARQUET)`);
});
let t0 = performance.now();
const fitted = await fitTransform(train, { labelColumn: 'delayed', topK: 60 });
console.log('fit', (performance.now() - t0).toFixed(0), 'ms width', fitted.outputWidth, 'rows', fitted.rowCount);
const graphPath = join(dir, 't.onnx');
await writeFile(graphPath, buildTransformGraph(fitted));
t0 = performance.now();
const a = await applyTransform({ graphPath, parquetPath: train, splitDir: join(dir, 'train'), labelColumn: 'delayed' });
console.log('apply train', (performance.now() - t0).toFixed(0), 'ms', a);
await applyTransform({ graphPath, parquetPath: evalp, splitDir: join(dir, 'eval'), labelColumn: 'delayed' });
const f32 = async (p: string) => new Float32Array((await readFile(p)).buffer.slice(0));
const X = await f32(join(dir, 'train', 'features.f32')); const y = await f32(join(dir, 'train', 'labels.f32'));
const Xe = await f32(join(dir, 'eval', 'features.f32')); const ye = await f32(join(dir, 'eval', 'labels.f32'));
t0 = performance.now();
const model = trainLogisticRegression(X, y, fitted.outputWidth, { epochs: 5, onEpoch: (e, l) => console.log('epoch', e, l.toFixed(5), (performance.now() - t0).toFixed(0), 'ms') });
console.log('train 5 epochs', (performance.now() - t0).toFixed(0), 'ms');
const p = predictLogisticRegression(model, Xe);
let ll = 0, base = 0; const br = y.reduce((s, v) => s + v, 0) / y.length;
for (let i = 0; i < ye.length; i++) { const q = Math.min(Math.max(p[i], 1e-12), 1 - 1e-12); ll -= ye[i] * Math.log(q) + (1 - ye[i]) * Math.log(1 - q); base -= ye[i] * Math.log(br) + (1 - ye[i]) * Math.log(1 - br); }
console.log('eval logloss', ll / ye.length, 'base', base / ye.length);
await rm(dir, { recursive: true, force: true });
