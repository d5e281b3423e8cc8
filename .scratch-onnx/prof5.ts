import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { FLIGHTS_PARQUET } from '../test/support/flights.js';
import { fitTransform } from '../src/transform/analyzers.js';
import { buildTransformGraph, transformInputs } from '../src/transform/graph.js';
import { toTensor } from '../src/onnx/tensors.js';

const dir = await mkdtemp(join(tmpdir(), 'bench-'));
const train = join(dir, 'train.parquet');
await withDuckDB(async (db) => {
  await db.run(`COPY (SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS weekday, distance, origin, destination, delay > 15 AS delayed FROM read_parquet(${sqlString(FLIGHTS_PARQUET)}) WHERE month(date) = 1) TO ${sqlString(train)} (FORMAT PARQUET)`);
});
const fitted = await fitTransform(train, { labelColumn: 'delayed', topK: 60 });
const bytes = buildTransformGraph(fitted);
const all = await withDuckDB(async (db) => (await db.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(train)}) LIMIT 262144`)).getColumnsObject());
for (const opts of [{}, { intraOpNumThreads: 1 }] as ort.InferenceSession.SessionOptions[]) {
  const session = await ort.InferenceSession.create(bytes, opts);
  for (const bs of [8192, 16384, 32768, 65536, 16384]) {
    const batches: Record<string, ort.Tensor>[] = [];
    for (let s = 0; s < 262144; s += bs) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const spec of transformInputs(fitted)) feeds[spec.name] = toTensor(spec, all[spec.name].slice(s, s + bs));
      batches.push(feeds);
    }
    await session.run(batches[0]);
    const t = performance.now();
    for (const b of batches) await session.run(b);
    console.log(JSON.stringify(opts), 'batch', bs, 'ms per 262k rows', (performance.now() - t).toFixed(0));
  }
}
