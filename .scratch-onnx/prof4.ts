import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
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
const rows = await withDuckDB(async (db) => (await db.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(train)}) LIMIT 65536`)).getColumnsObject());
const session = await ort.InferenceSession.create(bytes, { enableProfiling: true, profileFilePrefix: join(dir, 'prof') });
const feeds: Record<string, ort.Tensor> = {};
for (const spec of transformInputs(fitted)) feeds[spec.name] = toTensor(spec, rows[spec.name]);
for (let rep = 0; rep < 4; rep++) { const t = performance.now(); await session.run(feeds); console.log('run', (performance.now() - t).toFixed(1)); }
session.endProfiling();
const { readdirSync } = await import('node:fs');
const file = readdirSync(dir).find((f) => f.startsWith('prof'))!;
const events = JSON.parse(await readFile(join(dir, file), 'utf8')) as { name: string; dur: number; cat: string; args?: { op_name?: string } }[];
const byOp = new Map<string, number>();
for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) byOp.set(e.args?.op_name ?? e.name, (byOp.get(e.args?.op_name ?? e.name) ?? 0) + e.dur);
const sessionRuns = events.filter((e) => e.name === 'model_run').map((e) => e.dur);
console.log('model_run us', sessionRuns);
console.log([...byOp].sort((a, b) => b[1] - a[1]));
