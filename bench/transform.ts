/**
 * Applying a fitted transform graph to Parquet (DuckDB reads, ONNX Runtime transforms,
 * float32 files are written: the offline path of every training run) against DuckDB
 * merely reading the same columns into JavaScript, measured in the same run. The ratio
 * is the cost of the transform over the unavoidable read.
 *
 * Data: January 2001 of flights-3m.parquet (vega-datasets), about 500k rows.
 * Transforms: the flights pipeline's current one (vocabularies + z-score), and one using
 * every analyzer (datetime parts, quantile buckets, vocabularies with OOV buckets,
 * hashing, an origin x destination cross, imputation).
 *
 * Run: node --import tsx bench/transform.ts [--every 1] [--repeat 3]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { flightsParquetPath } from '../src/data/datasets.js';
import { sqlIdent, sqlString, withDuckDB } from '../src/data/duckdb.js';
import { fitTransform } from '../src/transform/analyzers.js';
import { runModelOverParquet } from '../src/data/batch-runner.js';
import { applyTransform } from '../src/transform/apply.js';
import type { TransformConfigInput } from '../src/transform/config.js';
import { buildTransformGraph, transformInputs } from '../src/transform/graph.js';

const { values: args } = parseArgs({ options: { every: { type: 'string', default: '1' }, repeat: { type: 'string', default: '3' } } });
const every = Number(args.every);
const repeat = Number(args.repeat);

const TRANSFORMS: Record<string, TransformConfigInput> = {
  'current pipeline (vocabularies, z-score)': { labelColumn: 'delayed', features: ['hour', 'weekday', 'distance', 'origin', 'destination'], topK: 60 },
  'every analyzer': {
    labelColumn: 'delayed',
    features: ['date', 'hour', 'distance', 'origin', 'destination'],
    topK: 60,
    overrides: {
      date: { analyzer: 'datetime', format: 'epoch_milliseconds', parts: ['hour', 'weekday', 'day'] },
      hour: { analyzer: 'minmax', impute: { strategy: 'median' } },
      distance: { analyzer: 'quantiles', buckets: 10 },
      origin: { analyzer: 'vocabulary', topK: 60, numOovBuckets: 8, impute: { strategy: 'most_frequent' } },
      destination: { analyzer: 'hash', buckets: 64 },
    },
    crosses: [{ features: ['origin', 'destination'], buckets: 512 }],
  },
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Wall and CPU milliseconds of `work`. CPU time (user + system, every thread of this
 * process) is reported too because the benchmark machine is shared: waiting for a core
 * inflates wall time but not CPU time.
 */
async function measure(work: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await work();
  const cpu = process.cpuUsage(cpuStart);
  return { wall: performance.now() - start, cpu: (cpu.user + cpu.system) / 1000 };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-transform-'));
  try {
    const data = join(dir, 'january.parquet');
    const rows = await withDuckDB(async (db) => {
      await db.run(`COPY (SELECT date, hour(date)::BIGINT AS hour, dayofweek(date)::BIGINT AS weekday, distance::BIGINT AS distance, origin, destination, delay > 15 AS delayed
        FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(flightsParquetPath())})) WHERE month(date) = 1 AND rn % ${every} = 0)
        TO ${sqlString(data)} (FORMAT PARQUET)`);
      return Number((await db.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${sqlString(data)})`)).getRowObjects()[0].n);
    });
    const table: string[][] = [];
    for (const [label, config] of Object.entries(TRANSFORMS)) {
      const fitStart = performance.now();
      const fitted = await fitTransform(data, config);
      const fitMs = performance.now() - fitStart;
      const graphPath = join(dir, 'transform.onnx');
      await writeFile(graphPath, buildTransformGraph(fitted));
      const inputs = transformInputs(fitted);
      const times = { read: [] as { wall: number; cpu: number }[], graph: [] as { wall: number; cpu: number }[], apply: [] as { wall: number; cpu: number }[] };
      for (let run = 0; run < repeat; run++) {
        // The reference: the same columns, read the way the batch runner reads them, and nothing else.
        times.read.push(
          await measure(() =>
            withDuckDB(async (db) => {
              const selects = inputs.map((input) => (input.name === 'date' ? `epoch_ms(date)` : sqlIdent(input.name)));
              const result = await db.stream(`SELECT ${selects.join(', ')}, delayed FROM read_parquet(${sqlString(data)})`);
              for (;;) {
                const chunk = await result.fetchChunk();
                if (!chunk || chunk.rowCount === 0) break;
                for (let column = 0; column <= selects.length; column++) chunk.getColumnValues(column);
              }
            }),
          ),
        );
        // Read + the graph in ONNX Runtime, outputs dropped: the transform's own cost.
        times.graph.push(await measure(() => runModelOverParquet(graphPath, data, { extraColumns: ['delayed'], onBatch() {} })));
        // The whole offline path, writing features.f32 (rows x width float32) and labels.f32.
        times.apply.push(await measure(() => applyTransform({ graphPath, parquetPath: data, splitDir: join(dir, 'out'), labelColumn: 'delayed' })));
      }
      const pick = (kind: keyof typeof times, clock: 'wall' | 'cpu') => median(times[kind].map((time) => time[clock]));
      const rate = (ms: number) => Math.round(rows / (ms / 1000)).toLocaleString('en-US');
      for (const clock of ['wall', 'cpu'] as const) {
        const [read, graph, apply] = (['read', 'graph', 'apply'] as const).map((kind) => pick(kind, clock));
        table.push([label, String(fitted.outputWidth), `${(fitMs / 1000).toFixed(2)} s`, clock, rate(read), rate(graph), `${(graph / read).toFixed(2)}x`, rate(apply), `${(apply / read).toFixed(2)}x`]);
      }
    }
    const header = ['transform', 'width', 'fit (SQL)', 'clock', 'DuckDB read rows/s', 'read + graph rows/s', 'graph / read', 'applyTransform rows/s', 'apply / read'];
    console.log(`${rows.toLocaleString('en-US')} rows, median of ${repeat} runs; rows/s per wall second and per CPU second (all threads)\n`);
    console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    for (const row of table) console.log(`| ${row.join(' | ')} |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
