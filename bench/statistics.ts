/**
 * Full statistics (src/validate/statistics.ts: counts, missing, mean, std, zeros, NaN/inf,
 * min/max, quantile sketch with median, quantiles and both histograms, string value
 * counts, unique, top-k, lengths) of all of flights-3m.parquet against DuckDB's own
 * `SUMMARIZE` of the same file, measured in the same run; and a drift report between two
 * months (January and February written as span files; statistics of both, the schema
 * inferred from January, drift measured per feature) against the same reference.
 * Goal (issue 3): both at most 1.5× SUMMARIZE.
 *
 * Each measurement runs in its own child process (fresh DuckDB, cold JIT for both), so
 * the peak RSS reported is that of the measured work (plus Node, tsx and DuckDB loaded,
 * shown as the idle baseline). Kinds are interleaved and the median time is reported.
 *
 * Run: node --import tsx bench/statistics.ts [--repeat 5]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { flightsParquetPath } from '../src/data/datasets.js';
import { queryRows, sqlString, withDuckDB } from '../src/data/duckdb.js';
import { findAnomalies } from '../src/validate/anomalies.js';
import { inferSchema } from '../src/validate/schema.js';
import { computeStatistics } from '../src/validate/statistics.js';

const KINDS = ['idle', 'summarize', 'statistics', 'summarize-months', 'drift'] as const;
type Kind = (typeof KINDS)[number];

const { values: args } = parseArgs({ options: { repeat: { type: 'string', default: '5' }, child: { type: 'string' }, dir: { type: 'string' } } });

/** One measurement, in this (child) process: prints {ms, rssMB}. */
async function child(kind: Kind, dir: string): Promise<void> {
  const file = flightsParquetPath();
  const jan = join(dir, 'flights-1.parquet');
  const feb = join(dir, 'flights-2.parquet');
  await withDuckDB(async (db) => queryRows(db, 'SELECT 1')); // load DuckDB before the clock starts
  const start = performance.now();
  let check = 0;
  if (kind === 'summarize') {
    check = (await withDuckDB((db) => queryRows(db, `SUMMARIZE SELECT * FROM read_parquet(${sqlString(file)})`))).length;
  } else if (kind === 'summarize-months') {
    check = (await withDuckDB((db) => queryRows(db, `SUMMARIZE SELECT * FROM read_parquet([${sqlString(jan)}, ${sqlString(feb)}])`))).length;
  } else if (kind === 'statistics') {
    check = (await computeStatistics(file)).rowCount;
  } else if (kind === 'drift') {
    const previous = await computeStatistics(jan);
    const current = await computeStatistics(feb);
    const report = findAnomalies(current, inferSchema(previous), { previous });
    check = report.drift?.length ?? 0;
  }
  const ms = performance.now() - start;
  process.stdout.write(`${JSON.stringify({ ms, rssMB: process.resourceUsage().maxRSS / 1024, check })}\n`);
}

function run(kind: Kind, dir: string): { ms: number; rssMB: number; check: number } {
  const script = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, '--child', kind, '--dir', dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${kind} failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { ms: number; rssMB: number; check: number };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const repeat = Number(args.repeat);
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-stats-'));
  try {
    // Two spans as they would land: one Parquet file per month.
    await withDuckDB(async (db) => {
      for (const month of [1, 2]) {
        await db.run(`COPY (SELECT * FROM read_parquet(${sqlString(flightsParquetPath())}) WHERE month(date) = ${month}) TO ${sqlString(join(dir, `flights-${month}.parquet`))} (FORMAT PARQUET)`);
      }
    });
    const samples = new Map<Kind, { ms: number; rssMB: number; check: number }[]>(KINDS.map((k) => [k, []]));
    for (let i = 0; i < repeat; i++) {
      for (const kind of KINDS) {
        samples.get(kind)!.push(run(kind, dir));
        process.stderr.write('.');
      }
    }
    process.stderr.write('\n');
    const time = (k: Kind) => median(samples.get(k)!.map((s) => s.ms));
    const rss = (k: Kind) => Math.max(...samples.get(k)!.map((s) => s.rssMB));
    const summarize = time('summarize');
    const rows: [string, string, string, string][] = [
      ['idle (Node + tsx + DuckDB loaded)', '', '', rss('idle').toFixed(0)],
      ['DuckDB SUMMARIZE flights-3m (reference)', summarize.toFixed(0), '1.00', rss('summarize').toFixed(0)],
      ['Loom full statistics flights-3m', time('statistics').toFixed(0), (time('statistics') / summarize).toFixed(2), rss('statistics').toFixed(0)],
      ['DuckDB SUMMARIZE Jan + Feb files', time('summarize-months').toFixed(0), (time('summarize-months') / summarize).toFixed(2), rss('summarize-months').toFixed(0)],
      ['Loom drift report Feb vs Jan', time('drift').toFixed(0), (time('drift') / summarize).toFixed(2), rss('drift').toFixed(0)],
    ];
    const headers = ['measurement', 'median ms', 'ratio to SUMMARIZE', 'peak RSS MB'];
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
    process.stdout.write(`${[line(headers), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n')}\n`);
    process.stdout.write(`\nrows: ${samples.get('statistics')![0]!.check}; drift features compared: ${samples.get('drift')![0]!.check}; repeat ${repeat}; goal: ratios ≤ 1.5\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (args.child) await child(args.child as Kind, args.dir!);
else await main();
