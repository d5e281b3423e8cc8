/**
 * The bulk label loader (`loadLabels`, what `loom monitor labels load` runs) on a large label
 * file keyed by request id: the time it takes and the process's peak RSS (issue 13 follow-up:
 * a whole file held in memory cost 370 MB at 1M rows). One load per process, so the peak is
 * the load's alone; run it under `/usr/bin/time -v` for the kernel's figure, or read the
 * `maxRSS` it prints (`process.resourceUsage`, the same counter).
 *
 * The file is `--rows` labels (`request_id,label`, ids `req-<n>`, 0/1) in CSV, loaded into a
 * fresh SQLite project, or a fresh schema on the PostgreSQL server of `--postgres <url>`. No
 * prediction log is needed by request id. `rssBeforeLoadMb` is the process before the load
 * (Node, the platform's modules): the floor the peak is read against. DuckDB holds the staged
 * source up to its memory limit (`--duckdb-memory-limit 100MB`, as LOOM_DUCKDB_MEMORY_LIMIT
 * sets it; SQLite only) and spills past it.
 *
 * Run: node --import tsx bench/label-load.ts [--rows 1000000] [--postgres <url>] [--duckdb-memory-limit 100MB]
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadLabels } from '../src/monitor/label-loader.js';
import { openFreshPostgres, openTestPlatform } from '../test/support/databases.js';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, postgres: { type: 'string' }, 'duckdb-memory-limit': { type: 'string' } } });
const ROWS = Number(args.rows);
if (!Number.isInteger(ROWS) || ROWS < 1) throw new Error(`--rows ${args.rows}: give a whole number`);

const dir = await mkdtemp(join(tmpdir(), 'loom-bench-label-load-'));
try {
  const file = join(dir, 'labels.csv');
  // Written a block of lines at a time, so the file's making does not set the process's peak.
  const out = createWriteStream(file);
  out.write('request_id,label\n');
  for (let from = 0; from < ROWS; from += 10_000) {
    const lines = Array.from({ length: Math.min(10_000, ROWS - from) }, (_, k) => `req-${from + k},${(from + k) % 2}\n`).join('');
    if (!out.write(lines)) await once(out, 'drain');
  }
  await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())));
  const baselineRssMb = process.memoryUsage.rss() / 1024 / 1024;
  const memoryLimit = args['duckdb-memory-limit'];
  const platform = args.postgres ? await openFreshPostgres(args.postgres) : await openTestPlatform(dir, memoryLimit ? { duckdb: { memoryLimit, tempDirectory: join(dir, 'spill') } } : {});
  try {
    const started = performance.now();
    const result = await loadLabels(platform.labels, { kind: 'parquet', dir: join(dir, 'predictions') }, { model: 'flights', source: { file } });
    const seconds = (performance.now() - started) / 1000;
    const stored = await platform.labels.countLabels('flights');
    if (stored !== ROWS || result.written !== ROWS) throw new Error(`stored ${stored}, written ${result.written}, expected ${ROWS}`);
    const maxRssMb = process.resourceUsage().maxRSS / 1024;
    console.log(JSON.stringify({ rows: ROWS, backend: args.postgres ? 'postgres' : 'sqlite', duckdbMemoryLimit: memoryLimit ?? 'default', seconds: Number(seconds.toFixed(2)), maxRssMb: Math.round(maxRssMb), rssBeforeLoadMb: Math.round(baselineRssMb), loadavg: loadavg().map((l) => l.toFixed(2)).join(' ') }));
  } finally {
    await platform.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
