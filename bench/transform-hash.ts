/**
 * What hashing in the graph costs: transform graphs run in ONNX Runtime over in-memory
 * tensors (no Parquet reading), one hashing every value with com.microsoft.MurmurHash3,
 * against the reference measured in the same run: a graph of the same output width that
 * only looks the values up in a vocabulary (LabelEncoder, nothing hashed). The width is
 * kept equal because the one-hot output's cost follows it (bench/transform.ts).
 *
 * Data: January 2001 of flights-3m.parquet (vega-datasets), about 500k rows, fed in
 * batches of 16,384 rows (the batch runner's default).
 *
 * Run: node --import tsx bench/transform-hash.ts [--every 1] [--repeat 5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { flightsParquetPath } from '../src/data/datasets.js';
import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { toTensor } from '../src/onnx/tensors.js';
import { fitTransform } from '../src/transform/analyzers.js';
import type { TransformConfigInput } from '../src/transform/config.js';
import { buildTransformGraph, transformInputs } from '../src/transform/graph.js';

const { values: args } = parseArgs({ options: { every: { type: 'string', default: '1' }, repeat: { type: 'string', default: '5' } } });
const every = Number(args.every);
const repeat = Number(args.repeat);
const BATCH = 16_384;

const base = { labelColumn: 'delayed' } as const;
/** Pairs of graphs of the same output width: a vocabulary lookup (the reference, nothing hashed) and the hashing one. */
const CASES: [string, TransformConfigInput, TransformConfigInput][] = [
  [
    'destination (string): vocabulary top 63 + 1 OOV column vs hash into 64 buckets',
    { ...base, features: ['destination'], overrides: { destination: { analyzer: 'vocabulary', topK: 63 } } },
    { ...base, features: ['destination'], overrides: { destination: { analyzer: 'hash', buckets: 64 } } },
  ],
  [
    'destination (string): vocabulary top 63 + 1 OOV column vs top 56 + 8 hashed OOV buckets',
    { ...base, features: ['destination'], overrides: { destination: { analyzer: 'vocabulary', topK: 63 } } },
    { ...base, features: ['destination'], overrides: { destination: { analyzer: 'vocabulary', topK: 56, numOovBuckets: 8 } } },
  ],
  [
    'distance (integer): vocabulary top 63 + 1 OOV column vs hash into 64 buckets',
    { ...base, features: ['distance'], overrides: { distance: { analyzer: 'vocabulary', topK: 63 } } },
    { ...base, features: ['distance'], overrides: { distance: { analyzer: 'hash', buckets: 64 } } },
  ],
  [
    'origin x destination: top 511 pairs + 1 OOV column vs hash into 512 buckets',
    { ...base, features: ['distance'], overrides: { distance: { analyzer: 'minmax' } }, crosses: [{ features: ['origin', 'destination'], topK: 511 }] },
    { ...base, features: ['distance'], overrides: { distance: { analyzer: 'minmax' } }, crosses: [{ features: ['origin', 'destination'], buckets: 512 }] },
  ],
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Median CPU milliseconds (user + system, all threads: the machine is shared, so waiting for a core would inflate wall time) of running the fitted graph over every batch. */
async function measureGraph(data: string, rows: Record<string, unknown>[], config: TransformConfigInput): Promise<{ width: number; ms: number }> {
  const fitted = await fitTransform(data, config);
  const session = await ort.InferenceSession.create(buildTransformGraph(fitted));
  try {
    const batches: Record<string, ort.Tensor>[] = [];
    for (let start = 0; start < rows.length; start += BATCH) {
      const slice = rows.slice(start, start + BATCH);
      batches.push(Object.fromEntries(transformInputs(fitted).map((spec) => [spec.name, toTensor(spec, slice.map((row) => row[spec.name]))])));
    }
    const cpu: number[] = [];
    for (let run = 0; run < repeat; run++) {
      const before = process.cpuUsage();
      for (const feeds of batches) await session.run(feeds);
      const used = process.cpuUsage(before);
      cpu.push((used.user + used.system) / 1000);
    }
    return { width: fitted.outputWidth, ms: median(cpu) };
  } finally {
    await session.release();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-hash-'));
  try {
    const data = join(dir, 'january.parquet');
    const rows = await withDuckDB(async (db) => {
      await db.run(`COPY (SELECT distance::BIGINT AS distance, origin, destination, delay > 15 AS delayed
        FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(flightsParquetPath())})) WHERE month(date) = 1 AND rn % ${every} = 0)
        TO ${sqlString(data)} (FORMAT PARQUET)`);
      return (await db.runAndReadAll(`SELECT distance, origin, destination FROM read_parquet(${sqlString(data)})`)).getRowObjects();
    });
    const table: string[][] = [];
    for (const [label, referenceConfig, hashedConfig] of CASES) {
      const [reference, hashed] = [await measureGraph(data, rows, referenceConfig), await measureGraph(data, rows, hashedConfig)];
      const rate = (ms: number) => Math.round(rows.length / (ms / 1000)).toLocaleString('en-US');
      table.push([label, `${reference.width} / ${hashed.width}`, rate(reference.ms), rate(hashed.ms), `${(hashed.ms / reference.ms).toFixed(2)}x`]);
    }
    const header = ['graphs (reference vs hashing)', 'width', 'reference rows per CPU s', 'hashing rows per CPU s', 'hashing / reference CPU time'];
    console.log(`${rows.length.toLocaleString('en-US')} rows in batches of ${BATCH}, median of ${repeat} runs\n`);
    console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    for (const row of table) console.log(`| ${row.join(' | ')} |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
