/**
 * Batch scoring (`loom predict`: DuckDB streams the input, ONNX Runtime scores each
 * 16k-row batch, an Appender collects the outputs, DuckDB writes Parquet, lineage is
 * recorded) against DuckDB merely reading the model's input columns of the same file
 * into JavaScript, measured in the same run. Goal (issue 6): scoring at least 0.5× the
 * read rate.
 *
 * Data: all of flights-3m.parquet (vega-datasets, 3M rows), with the raw features the
 * model takes (hour, weekday, distance, origin, destination) derived once into a Parquet
 * file that both measurements read. Model: the demo-like composed graph of
 * test/support/serving-model.ts (vocabulary + z-score transform and the trained model),
 * registered as `flights`.
 *
 * Run: node --import tsx bench/batch-predict.ts [--repeat 3] [--batch-size 16384] [--workers N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import * as ort from 'onnxruntime-node';
import { flightsParquetPath } from '../src/data/datasets.js';
import { sqlIdent, sqlString, withDuckDB } from '../src/data/duckdb.js';
import { toTensor } from '../src/onnx/tensors.js';
import type { ModelSignature } from '../src/registry/types.js';
import { batchPredict } from '../src/serve/batch/predict-job.js';
import { defaultWorkers, inputColumns } from '../src/serve/batch/stream-score.js';
import { batchModelBytes, openBatchModel } from '../src/serve/batch/model-file.js';
import { registeredModelProject } from '../test/support/registered-model.js';

const { values: args } = parseArgs({
  options: { repeat: { type: 'string', default: '3' }, 'batch-size': { type: 'string', default: '16384' }, workers: { type: 'string' } },
});
const workers = args.workers === undefined ? undefined : Number(args.workers);
const repeat = Number(args.repeat);
const batchSize = Number(args['batch-size']);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-batch-'));
  try {
    process.stderr.write('building and registering the model...\n');
    const project = await registeredModelProject(dir);
    const data = join(dir, 'flights-features.parquet');
    const rows = await withDuckDB(async (db) => {
      await db.run(`COPY (SELECT hour(date)::BIGINT AS hour, dayofweek(date)::BIGINT AS weekday, distance::BIGINT AS distance, origin, destination
        FROM read_parquet(${sqlString(flightsParquetPath())})) TO ${sqlString(data)} (FORMAT PARQUET)`);
      return Number((await db.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${sqlString(data)})`)).getRowObjects()[0]!.n);
    });
    const services = { registry: project.db.registry, metadata: project.db.metadata, artifacts: project.artifacts };
    const model = await openBatchModel('flights', services);
    const readQuery = `SELECT ${inputColumns(model.signature, new Map()).map((column) => `${column.expression} AS ${sqlIdent(column.name)}`).join(', ')} FROM read_parquet(${sqlString(data)})`;

    const readSeconds: number[] = [];
    const scoreSeconds: number[] = [];
    const readCpu: number[] = [];
    const scoreCpu: number[] = [];
    for (let run = 0; run < repeat; run++) {
      let cpu = process.cpuUsage();
      readSeconds.push(await timeRead(readQuery, rows));
      readCpu.push(cpuSeconds(process.cpuUsage(cpu)));
      const output = join(dir, `scored-${run}.parquet`);
      cpu = process.cpuUsage();
      const started = performance.now();
      const result = await batchPredict(services, { model: 'flights', input: data, output, batchSize, workers });
      scoreSeconds.push((performance.now() - started) / 1000);
      scoreCpu.push(cpuSeconds(process.cpuUsage(cpu)));
      if (result.rowCount !== rows) throw new Error(`scored ${result.rowCount} rows of ${rows}`);
      await rm(output);
    }
    const modelOnly = await timeModelAlone(await batchModelBytes(model), readQuery, model.signature);
    const read = median(readSeconds);
    const score = median(scoreSeconds);
    const table = [
      ['measurement', 'rows', 'seconds (median)', 'rows/s', 'CPU seconds (median, all threads)'],
      ['read the 5 input columns into JS (DuckDB stream)', rows, read.toFixed(2), Math.round(rows / read), median(readCpu).toFixed(2)],
      ['loom predict to Parquet (read + score + write + lineage)', rows, score.toFixed(2), Math.round(rows / score), median(scoreCpu).toFixed(2)],
      ['ratio score/read (goal >= 0.5)', '', '', (read / score).toFixed(2), (median(readCpu) / median(scoreCpu)).toFixed(2)],
      ['for scale: the model alone, 1 thread, batches in memory', modelOnly.rows, modelOnly.seconds.toFixed(2), Math.round(modelOnly.rows / modelOnly.seconds), ''],
    ];
    const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => String(row[column]).length)));
    process.stdout.write(`${table.map((row) => `| ${row.map((cell, column) => String(cell).padEnd(widths[column]!)).join(' | ')} |`).join('\n')}\n`);
    process.stdout.write(`runs: ${repeat}; read ${readSeconds.map((s) => s.toFixed(2)).join(', ')} s; score ${scoreSeconds.map((s) => s.toFixed(2)).join(', ')} s; batch size ${batchSize}; scoring workers ${workers ?? defaultWorkers()}\n`);
    await project.db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ONNX Runtime alone (one thread) on the first 16 batches, already built as tensors: the model's own cost. */
async function timeModelAlone(bytes: Uint8Array, query: string, signature: ModelSignature): Promise<{ rows: number; seconds: number }> {
  const batches: Record<string, ort.Tensor>[] = [];
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`${query} LIMIT ${16 * batchSize}`);
    const columns = reader.getColumns();
    for (let start = 0; start < reader.currentRowCount; start += batchSize) {
      batches.push(Object.fromEntries(signature.inputs.map((spec, index) => [spec.name, toTensor(spec, columns[index]!.slice(start, start + batchSize))])));
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  await session.run(batches[0]!);
  const started = performance.now();
  let rows = 0;
  for (const feeds of batches) rows += Number((await session.run(feeds))[signature.outputs[0]!.name]!.dims[0]);
  const seconds = (performance.now() - started) / 1000;
  await session.release();
  return { rows, seconds };
}

/** User plus system time of the whole process (every thread: DuckDB's, the scoring workers'). */
function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

/** The reference: every value of the model's input columns read into JavaScript, chunk by chunk, nothing else. */
async function timeRead(query: string, expectedRows: number): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const started = performance.now();
    const result = await connection.stream(query);
    let rows = 0;
    let sink = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (let column = 0; column < chunk.columnCount; column++) {
        const vector = chunk.getColumnVector(column);
        for (let i = 0; i < chunk.rowCount; i++) if (vector.getItem(i) !== null) sink++;
      }
      rows += chunk.rowCount;
    }
    const seconds = (performance.now() - started) / 1000;
    if (rows !== expectedRows || sink === 0) throw new Error(`read ${rows} rows of ${expectedRows}`);
    return seconds;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

await main();
