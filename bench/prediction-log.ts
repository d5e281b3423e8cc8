/**
 * What the prediction log costs the serving thread. A steady stream of records shaped like
 * the demo model's requests (5 features, 1 output, 1 row) is logged to Parquet for a fixed
 * time in three modes, all in this run:
 *   none       — records made and thrown away (the reference: what making them costs)
 *   in-thread  — the log writing on the serving thread (JSON, spool appends, DuckDB
 *                conversions), as before the worker
 *   worker     — the log as built: a push per record, packed batches to a worker thread
 * Reported per mode: the serving thread's event-loop utilisation, the serving-thread time
 * per record above the reference, event-loop delay p99 / max (what a request waiting behind
 * the log would feel), rows written and dropped.
 *
 * With `--writer`, instead: what the log's worker spends per row, CPU µs of all threads, the
 * two ways it spools a packed batch alternated in one process (100,000 one-row records in
 * batches of 2,000, each pass spooled and then converted to one Parquet file): NDJSON lines
 * (`packedSpoolLines` + `writeLines` with the tracked layout, the path before columnar frames)
 * and columnar frames (`writePacked`, prediction-log-frames.ts). Each pass starts from the
 * batches as they arrive in the worker (the typed arrays `RecordPacker` fills, opened with
 * `openBatch` in the pass, as the worker does; the message's transfer itself is not counted).
 * Reported per way: the whole pass, and apart its spooling (open, encode, append) and its
 * conversion (DuckDB, at close). Median of `--passes` after a warm-up.
 *
 * Run: node --import tsx bench/prediction-log.ts [--seconds 8] [--rate 20000]
 *      node --import tsx bench/prediction-log.ts --writer [--passes 5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PredictionLog, type PredictionRecord } from '../src/serve/prediction-log.js';
import { ParquetPredictionSink } from '../src/serve/prediction-sinks.js';
import { openBatch, packedSpoolLines, RecordPacker, type PackedBatch } from '../src/serve/prediction-log-pack.js';
import { ParquetSpoolWriter } from '../src/serve/prediction-log-parquet.js';
import { packedStructure } from '../src/serve/prediction-log-structure.js';

const NAMES = ['hour', 'weekday', 'distance', 'origin', 'destination'];
const ORIGINS = ['SFO', 'LAX', 'ORD', 'JFK', 'SEA'];

function makeRecord(i: number): PredictionRecord {
  return {
    requestId: `bench-${i}`,
    modelName: 'flights',
    modelVersion: 1,
    role: 'primary',
    protocol: 'v2',
    inputNames: NAMES,
    rows: { rowCount: 1, columns: [[i % 24], [i % 7], [100 + (i % 2000)], [ORIGINS[i % 5]!], [ORIGINS[(i + 2) % 5]!]] },
    outputs: [{ name: 'probability', type: 'float32', shape: [1, 1], data: [(i % 1000) / 1000] }],
    latencyMs: 0.2 + (i % 10) / 100,
    at: Date.now(),
  };
}

interface ModeResult {
  mode: string;
  records: number;
  elu: number;
  p99Ms: number;
  maxMs: number;
  written: number;
  dropped: number;
}

async function runMode(mode: 'none' | 'in-thread' | 'worker', dir: string, seconds: number, rate: number): Promise<ModeResult> {
  // Files rotate every 20,000 rows, so DuckDB converts about once a second at 20,000 records/s.
  const log = mode === 'none' ? undefined : new PredictionLog(new ParquetPredictionSink(join(dir, mode), { rotateRows: 20_000 }), { inThread: mode === 'in-thread' });
  if (mode === 'worker') await new Promise((resolve) => setTimeout(resolve, 1500)); // the worker's start is not part of the steady state
  const perTick = Math.max(1, Math.round(rate / 1000));
  let made = 0;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const elu = performance.eventLoopUtilization();
  const end = performance.now() + seconds * 1000;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      if (performance.now() >= end) {
        clearInterval(tick);
        return resolve();
      }
      for (let k = 0; k < perTick; k++) {
        const record = makeRecord(made++);
        if (log) log.record(record);
      }
    }, 1);
  });
  const used = performance.eventLoopUtilization(elu);
  delay.disable();
  await log?.close();
  return { mode, records: made, elu: used.utilization, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6, written: log?.written ?? 0, dropped: log?.dropped ?? 0 };
}

/** CPU µs of all threads, per row. */
interface WriterTimes {
  spool: number;
  convert: number;
  total: number;
}

/** CPU per row of opening `batches` (as the worker gets them), spooling them one way and converting the spool to Parquet. */
async function writerPass(dir: string, batches: PackedBatch[], how: 'ndjson' | 'frames'): Promise<WriterTimes> {
  const writer = new ParquetSpoolWriter(dir, { idleMs: 600_000, rotateMs: 600_000 });
  const start = process.cpuUsage();
  let rows = 0;
  for (const batch of batches) {
    const packed = openBatch(batch);
    if (how === 'frames') rows += await writer.writePacked(packed);
    else {
      const { text, rows: count } = packedSpoolLines(packed);
      await writer.writeLines(text, count, packedStructure(packed));
      rows += count;
    }
  }
  const spooled = process.cpuUsage(start);
  await writer.close();
  const used = process.cpuUsage(start);
  const spool = (spooled.user + spooled.system) / rows;
  const total = (used.user + used.system) / rows;
  return { spool, convert: total - spool, total };
}

/** 50 batches of 2,000 one-row records, packed as the serving thread packs them. */
function wireBatches(): PackedBatch[] {
  return Array.from({ length: 50 }, (_, b) => {
    const packer = new RecordPacker();
    for (let i = 0; i < 2000; i++) packer.add(makeRecord(b * 2000 + i));
    return packer.take();
  });
}

async function writerBench(dir: string, passes: number): Promise<void> {
  // Opening a batch only reads its typed arrays, so the same batches serve every pass.
  const batches = wireBatches();
  const times = { ndjson: [] as WriterTimes[], frames: [] as WriterTimes[] };
  for (let pass = 0; pass <= passes; pass++) {
    for (const how of ['ndjson', 'frames'] as const) {
      const took = await writerPass(join(dir, `${how}-${pass}`), batches, how);
      if (pass > 0) times[how].push(took);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const of = (how: 'ndjson' | 'frames', part: keyof WriterTimes) => median(times[how].map((t) => t[part]));
  for (const how of ['ndjson', 'frames'] as const) {
    const passesText = times[how].map((t) => t.total.toFixed(2)).join(', ');
    process.stdout.write(`${how}: median ${of(how, 'total').toFixed(2)} µs per row (spool ${of(how, 'spool').toFixed(2)}, convert ${of(how, 'convert').toFixed(2)}; passes ${passesText})\n`);
  }
  process.stdout.write(`frames / ndjson: ${(of('frames', 'total') / of('ndjson', 'total')).toFixed(2)}×\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, rate: { type: 'string', default: '20000' }, writer: { type: 'boolean', default: false }, passes: { type: 'string', default: '5' } } });
  if (values.writer) {
    const dir = await mkdtemp(join(tmpdir(), 'loom-bench-log-writer-'));
    try {
      return await writerBench(dir, Number(values.passes));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-prediction-log-'));
  try {
    const results: ModeResult[] = [];
    for (const mode of ['none', 'in-thread', 'worker'] as const) {
      process.stderr.write(`${mode}: ${seconds} s at ${rate} records/s...\n`);
      results.push(await runMode(mode, dir, seconds, rate));
    }
    const reference = results[0]!;
    const perRecord = (result: ModeResult) => ((result.elu - reference.elu) * seconds * 1e6) / result.records;
    const rows = results.map((result) => [
      result.mode,
      String(result.records),
      `${(result.elu * 100).toFixed(1)} %`,
      result === reference ? 'reference' : `${perRecord(result).toFixed(2)} µs`,
      `${result.p99Ms.toFixed(1)} / ${result.maxMs.toFixed(1)} ms`,
      result === reference ? '' : `${result.written} / ${result.dropped}`,
    ]);
    const inThread = results[1]!;
    const worker = results[2]!;
    const table = [
      '| mode | records | serving-thread busy | serving-thread time per record (above reference) | event-loop delay p99 / max | rows written / dropped |',
      '|---|---|---|---|---|---|',
      ...rows.map((row) => `| ${row.join(' | ')} |`),
    ].join('\n');
    const summary = `worker vs in-thread: serving-thread time per record ${(perRecord(worker) / perRecord(inThread)).toFixed(2)}×, event-loop delay max ${(worker.maxMs / inThread.maxMs).toFixed(2)}×`;
    process.stdout.write(`${table}\n\n${summary}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
