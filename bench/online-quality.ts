/**
 * Online quality of a window of logged predictions through the product's own path
 * (`onlineQuality`, what `loom monitor quality`, the alerts and the canary stage call): the
 * prediction log read, the labels that arrived joined by request id, CBPE's estimate for every
 * row, the measured metrics and the evaluation's slices on the labelled rows (issue 13: a
 * window of 1M logged predictions analysed in at most 2 s). bench/monitor-window.ts times
 * the estimate alone, from a bare score column; this one times everything a user waits for.
 *
 * The project is test/support's registered flights model (evaluated, so the estimator is
 * calibrated on its evaluation split); the log is its evaluation rows served over and over
 * (`--rows`, one request each, the writer's columnar Parquet files), with a label for every
 * tenth request. The reference, interleaved in the same run, is DuckDB reading the same
 * columns of the same files into JS arrays (request id, score, the slice feature, the
 * logging time, in time order): the floor of any answer that needs those values in JS.
 * The first `onlineQuality` call fits CBPE (kept for the version) and is not counted.
 * Replayed rows repeat their scores (as many distinct scores as evaluation rows), which the
 * estimate's GROUP BY of window and score profits from; `--distinct-scores` scales each
 * logged score by a factor just under 1, unique per request, so every score differs (the
 * worst case for that GROUP BY; the printed figures then differ in their last digits).
 *
 * Run: node --import tsx bench/online-quality.ts [--rows 1000000] [--repeat 5] [--distinct-scores]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runModelOverParquet } from '../src/data/batch-runner.js';
import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { evaluationConfig } from '../src/evaluate/config.js';
import { evaluateRegisteredModel } from '../src/evaluate/evaluate-registered.js';
import { onlineQuality } from '../src/monitor/quality-run.js';
import type { PredictionLogRow } from '../src/serve/prediction-log.js';
import { ParquetPredictionSink } from '../src/serve/prediction-sinks.js';
import { registeredModelProject } from '../test/support/registered-model.js';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, repeat: { type: 'string', default: '5' }, 'distinct-scores': { type: 'boolean', default: false } } });
const ROWS = Number(args.rows);
const repeat = Math.max(1, Number(args.repeat));
if (!Number.isInteger(ROWS) || ROWS < 1000) throw new Error(`--rows ${args.rows}: give a whole number of at least 1000`);
const START = Date.UTC(2026, 0, 5);

const dir = await mkdtemp(join(tmpdir(), 'loom-bench-online-quality-'));
try {
  const project = await registeredModelProject(dir);
  try {
    const config = evaluationConfig.parse({ labelColumn: 'delayed', decisionThreshold: 0.2, slices: [{ columns: [{ feature: 'distance', boundaries: [800] }] }], minSliceSize: 20, bootstrap: { resamples: 0 } });
    await evaluateRegisteredModel({ db: project.db, artifacts: project.artifacts }, { model: 'flights@champion', data: `#${project.examplesId}`, baseline: 'none', config });
    const served: { origin: string; distance: number; probability: number; delayed: number }[] = [];
    await runModelOverParquet(join(project.fixture.servingModel.path, 'model.onnx'), join(project.fixture.examples.path, 'eval', 'data.parquet'), {
      extraColumns: ['origin', 'distance', 'delayed'],
      onBatch({ rowCount, outputs, extra }) {
        for (let i = 0; i < rowCount; i++) served.push({ origin: String(extra.origin![i]), distance: Number(extra.distance![i]), probability: outputs.probability![i]!, delayed: extra.delayed![i] ? 1 : 0 });
      },
    });
    const logDir = join(dir, 'predictions');
    const sink = new ParquetPredictionSink(logDir);
    const labels: { requestId: string; modelName: string; label: number }[] = [];
    for (let from = 0; from < ROWS; from += 50_000) {
      const batch: PredictionLogRow[] = [];
      for (let n = from; n < Math.min(ROWS, from + 50_000); n++) {
        const row = served[n % served.length]!;
        batch.push({ requestId: `r${n}`, modelName: 'flights', modelVersion: 1, role: 'primary', protocol: 'v2', features: JSON.stringify({ origin: row.origin, distance: row.distance }), outputs: JSON.stringify({ probability: args['distinct-scores'] ? row.probability * (1 - n * 1e-12) : row.probability }), latencyMs: 0.3, loggedAt: START + n });
        if (n % 10 === 0) labels.push({ requestId: `r${n}`, modelName: 'flights', label: row.delayed });
      }
      await sink.write(batch);
    }
    await sink.close();
    await project.db.labels.putLabels(labels, 'load:bench');

    const request = { ref: 'flights@champion', window: { kind: 'requests' as const, size: ROWS } };
    // CPU time beside wall time: on a shared machine it tells work from waiting (DuckDB's threads count in it).
    const cpuMs = (since: NodeJS.CpuUsage) => {
      const used = process.cpuUsage(since);
      return (used.user + used.system) / 1000;
    };
    const loom = async () => {
      const [start, cpu] = [performance.now(), process.cpuUsage()];
      const report = await onlineQuality(project.db, { kind: 'parquet', dir: logDir }, request);
      const ms = performance.now() - start;
      const [window] = report.windows;
      if (report.windows.length !== 1 || window!.rows !== ROWS || window!.labelled !== labels.length) throw new Error(`unexpected report: ${JSON.stringify(report.windows.map((w) => [w.rows, w.labelled]))}`);
      return { ms, cpu: cpuMs(cpu), estimated: window!.estimated, measured: window!.measured };
    };
    const duckdb = async () => {
      const [start, cpu] = [performance.now(), process.cpuUsage()];
      const columns = await withDuckDB(async (db) =>
        (
          await db.runAndReadAll(
            `SELECT request_id, outputs.probability, features.distance, epoch_ms(logged_at) FROM read_parquet(${sqlString(join(logDir, '*.parquet'))}, union_by_name = true) ORDER BY logged_at, request_id`,
          )
        ).getColumns(),
      );
      if (columns[0]!.length !== ROWS) throw new Error(`DuckDB read ${columns[0]!.length} rows`);
      return { ms: performance.now() - start, cpu: cpuMs(cpu) };
    };
    const first = await loom();
    const runs = { loom: [] as number[], duckdb: [] as number[], loomCpu: [] as number[], duckdbCpu: [] as number[], loads: [] as number[] };
    for (let r = 0; r < repeat; r++) {
      const [ours, reference] = [await loom(), await duckdb()];
      runs.loom.push(ours.ms);
      runs.loomCpu.push(ours.cpu);
      runs.duckdb.push(reference.ms);
      runs.duckdbCpu.push(reference.cpu);
      runs.loads.push(loadavg()[0]!);
      console.error(`run ${r + 1}/${repeat} done, load ${loadavg()[0]!.toFixed(1)}`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const fmt = (ms: number) => Math.round(ms).toLocaleString('en');
    console.log(`rows ${ROWS.toLocaleString('en')}, labelled ${labels.length.toLocaleString('en')}; repeat ${repeat}; load average (1 min) after each run: ${runs.loads.map((l) => l.toFixed(1)).join(', ')}`);
    console.log(`onlineQuality runs (ms): ${runs.loom.map(fmt).join(', ')} (first, CBPE fitted: ${fmt(first.ms)}); DuckDB read: ${runs.duckdb.map(fmt).join(', ')}`);
    console.log(`CPU ms (all threads): onlineQuality ${runs.loomCpu.map(fmt).join(', ')}; DuckDB read ${runs.duckdbCpu.map(fmt).join(', ')}`);
    console.log(`estimated ${JSON.stringify(first.estimated)}; measured ${JSON.stringify(first.measured)}`);
    console.log('');
    console.log('| what | median ms | × DuckDB read | median CPU ms | goal |');
    console.log('|---|---:|---:|---:|---|');
    const [loomMs, duckMs] = [median(runs.loom), median(runs.duckdb)];
    console.log(`| Loom \`onlineQuality\`, one window (log read, labels joined, CBPE estimate, measured metrics, slices; CBPE kept) | ${fmt(loomMs)} | ${(loomMs / duckMs).toFixed(2)}× | ${fmt(median(runs.loomCpu))} | ≤ 2,000 ms (${loomMs <= 2000 ? 'met' : 'not met'}) |`);
    console.log(`| DuckDB reading the same columns into JS, in time order (reference) | ${fmt(duckMs)} | 1.00× | ${fmt(median(runs.duckdbCpu))} | |`);
  } finally {
    await project.db.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
