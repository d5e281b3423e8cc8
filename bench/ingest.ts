/**
 * Ingest cost against DuckDB's own minimum: `ingestSnapshot` (connector with CSV reject
 * tables, quarantine summary, hash split, rows sorted by every column, two Parquet
 * files, sha256 of them) against one DuckDB statement that reads the same file and
 * writes it sorted by every column to one Parquet file, measured in the same run. The
 * ratio is what versioning, quarantine and splitting add. A second pair runs both under
 * a 64 MB memory limit (spilling to disk).
 *
 * Data: all of flights-3m.parquet (vega-datasets, 3M rows), and the same rows as CSV.
 *
 * Run: node --import tsx bench/ingest.ts [--repeat 2]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { flightsParquetPath } from '../src/data/datasets.js';
import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { ingestSnapshot } from '../src/data/ingest.js';
import { CSV_BUFFER_BYTES } from '../src/data/connectors/csv-reader.js';

const { values: args } = parseArgs({ options: { repeat: { type: 'string', default: '2' } } });
const repeat = Number(args.repeat);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-ingest-'));
  try {
    const parquet = flightsParquetPath();
    const csv = join(dir, 'flights-3m.csv');
    await withDuckDB((db) => db.run(`COPY (SELECT * FROM read_parquet(${sqlString(parquet)})) TO ${sqlString(csv)} (FORMAT CSV, HEADER)`));
    const rows: string[][] = [];
    let n = 0;
    for (const [format, file, read] of [
      ['parquet', parquet, `read_parquet(${sqlString(parquet)})`],
      ['csv', csv, `read_csv(${sqlString(csv)}, header = true, buffer_size = ${CSV_BUFFER_BYTES})`],
    ] as const) {
      for (const memoryLimit of [undefined, '64MB']) {
        const reference: number[] = [];
        const loom: number[] = [];
        for (let i = 0; i < repeat; i += 1) {
          n += 1;
          const out = join(dir, `ref-${n}.parquet`);
          reference.push(await time(() => withDuckDB((db) => db.run(`COPY (SELECT * FROM ${read} ORDER BY ALL) TO ${sqlString(out)} (FORMAT PARQUET, COMPRESSION ZSTD)`), { memoryLimit, tempDirectory: join(dir, 'spill') })));
          loom.push(await time(() => ingestSnapshot({ source: file, split: { kind: 'hash', key: 'origin', evalPercent: 20 }, memoryLimit, tempDirectory: dir }, join(dir, `loom-${n}`))));
          await rm(out, { force: true });
          await rm(join(dir, `loom-${n}`), { recursive: true, force: true });
        }
        const [r, l] = [median(reference), median(loom)];
        rows.push([format, memoryLimit ?? 'none', r.toFixed(2), l.toFixed(2), (l / r).toFixed(2), (3 / l).toFixed(2)]);
        process.stderr.write(`${format} ${memoryLimit ?? 'no limit'}: DuckDB ${r.toFixed(2)} s, Loom ${l.toFixed(2)} s\n`);
      }
    }
    const header = ['source', 'memory limit', 'DuckDB sorted copy (s)', 'loom ingest (s)', 'ratio', 'M rows/s (loom)'];
    process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
    for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
    process.stdout.write(`\nmedian of ${repeat}; 3M rows of flights-3m.parquet; node ${process.version}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
