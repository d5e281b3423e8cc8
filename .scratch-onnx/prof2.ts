import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { FLIGHTS_PARQUET } from '../test/support/flights.js';
import { fitTransform } from '../src/transform/analyzers.js';
import { buildTransformGraph, transformInputs } from '../src/transform/graph.js';
import { toTensor } from '../src/onnx/tensors.js';
import { runModelOverParquet } from '../src/onnx/batch-runner.js';

const dir = await mkdtemp(join(tmpdir(), 'bench-'));
const train = join(dir, 'train.parquet');
await withDuckDB(async (db) => {
  await db.run(`COPY (SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS weekday, distance, origin, destination, delay > 15 AS delayed FROM read_parquet(${sqlString(FLIGHTS_PARQUET)}) WHERE month(date) = 1) TO ${sqlString(train)} (FORMAT PARQUET)`);
});
const fitted = await fitTransform(train, { labelColumn: 'delayed', topK: 60 });
const bytes = buildTransformGraph(fitted);
await writeFile(join(dir, 't.onnx'), bytes);
const rows = await withDuckDB(async (db) => (await db.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(train)}) LIMIT 65536`)).getColumnsObject());
const session = await ort.InferenceSession.create(bytes);
for (let rep = 0; rep < 3; rep++) {
  let t = performance.now();
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of transformInputs(fitted)) feeds[spec.name] = toTensor(spec, rows[spec.name]);
  const tt = performance.now() - t;
  t = performance.now();
  await session.run(feeds);
  console.log('toTensor', tt.toFixed(1), 'run', (performance.now() - t).toFixed(1));
}
let t = performance.now();
await runModelOverParquet(join(dir, 't.onnx'), train, { onBatch() {} });
console.log('runModelOverParquet no-op', (performance.now() - t).toFixed(0));
