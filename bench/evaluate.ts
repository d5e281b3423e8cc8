/**
 * Model analysis cost against scoring: scoring the evaluation rows once with the composed
 * ONNX graph (DuckDB reads, ONNX Runtime scores) is the reference; slicing, fairness-style
 * grouping, and bootstrap intervals regroup those scores without scoring again. The
 * ratios say what the analysis adds over the unavoidable scoring pass, and what sorting
 * once for the bootstrap saves over resampling rows and sorting each resample.
 *
 * Data: a flights model trained on a January 2001 sample, evaluated on every February
 * 2001 flight of flights-3m.parquet (vega-datasets), about 470k rows.
 *
 * Run: node --import tsx bench/evaluate.ts [--every 1] [--repeat 3] [--resamples 100]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { percentile } from '../src/evaluate/bootstrap.js';
import { evaluationConfig } from '../src/evaluate/config.js';
import { analyzeModel } from '../src/evaluate/evaluator.js';
import { subset, taskMetrics, type Predictions } from '../src/evaluate/metrics.js';
import { scoreEvaluationData } from '../src/evaluate/scoring.js';
import { runModelOverParquet } from '../src/data/batch-runner.js';
import { mulberry32 } from '../src/core/random.js';
import { FLIGHTS_PARQUET } from '../test/support/flights.js';
import { buildServingModel } from '../test/support/serving-model.js';

const { values: args } = parseArgs({ options: { every: { type: 'string', default: '1' }, repeat: { type: 'string', default: '3' }, resamples: { type: 'string', default: '100' } } });
const every = Number(args.every);
const repeat = Number(args.repeat);
const resamples = Number(args.resamples);

async function measure(work: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await work();
  const cpu = process.cpuUsage(cpuStart);
  return { wall: performance.now() - start, cpu: (cpu.user + cpu.system) / 1000 };
}

async function best(work: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  const runs: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < repeat; i++) runs.push(await measure(work));
  const sorted = (key: 'wall' | 'cpu') => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return { wall: sorted('wall'), cpu: sorted('cpu') };
}

/** The textbook bootstrap: draw row indices, copy the rows, compute every metric (sorting each resample). */
function naiveBootstrap(p: Predictions, count: number, seed: number): Record<string, number[]> {
  const random = mulberry32(seed);
  const n = p.labels.length;
  const samples: Record<string, number[]> = {};
  for (let r = 0; r < count; r++) {
    const rows = Uint32Array.from({ length: n }, () => Math.floor(random() * n));
    for (const [name, value] of Object.entries(taskMetrics(subset(p, rows)))) (samples[name] ??= []).push(value);
  }
  return samples;
}

const dir = await mkdtemp(join(tmpdir(), 'loom-bench-evaluate-'));
try {
  const fixture = await buildServingModel(dir, { months: [1], every: 50, epochs: 3 });
  const modelPath = join(fixture.servingModel.path, 'model.onnx');
  const evalPath = join(dir, 'february.parquet');
  const rows = await withDuckDB(async (db) => {
    await db.run(`COPY (SELECT hour(date)::BIGINT AS hour, dayofweek(date)::BIGINT AS weekday, distance::BIGINT AS distance, origin, destination, delay > 15 AS delayed
      FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(FLIGHTS_PARQUET)})) WHERE month(date) = 2 AND rn % ${every} = 0 ORDER BY rn)
      TO ${sqlString(evalPath)} (FORMAT PARQUET)`);
    return Number((await db.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(evalPath)})`)).getRowObjects()[0]!.n);
  });

  // One unmeasured pass first: the ONNX session and DuckDB reader warm up, and the file is in the page cache.
  await runModelOverParquet(modelPath, evalPath, { extraColumns: ['delayed'], onBatch() {} });
  const scoreOnly = await best(() => runModelOverParquet(modelPath, evalPath, { extraColumns: ['delayed'], onBatch() {} }));
  let scored: Awaited<ReturnType<typeof scoreEvaluationData>> | undefined;
  const scoreWithFeatures = await best(async () => {
    scored = await scoreEvaluationData(modelPath, evalPath, { task: 'binary', predictionOutput: 'probability', labelColumn: 'delayed', features: ['hour', 'origin'] });
  });
  const features = scored!.features;
  const candidate = scored!.predictions;
  const slicesConfig = evaluationConfig.parse({
    slices: [{ columns: [{ feature: 'hour' }] }, { columns: [{ feature: 'origin', top: 10 }] }, { columns: [{ feature: 'origin', top: 5 }, { feature: 'hour', boundaries: [12] }] }],
    thresholds: [{ metric: 'auc', slice: 'hour', value: { lowerBound: 0.5 } }],
    bootstrap: { resamples: 0 },
  });
  const overall = await best(() => taskMetrics(candidate));
  const sliced = await best(() => analyzeModel({ config: slicesConfig, candidate, features }));
  const bootstrapConfig = evaluationConfig.parse({ bootstrap: { resamples, seed: 1 } });
  const bootstrap = await best(() => analyzeModel({ config: bootstrapConfig, candidate, features: {} }));
  const naive = await best(() => {
    const samples = naiveBootstrap(candidate, resamples, 1);
    return percentile(samples.auc!.sort((a, b) => a - b), 2.5);
  });

  const table = [
    ['score once (ONNX over Parquet, label only): reference', scoreOnly],
    ['score once, keeping slice features (hour, origin)', scoreWithFeatures],
    ['overall metrics (11 binary metrics)', overall],
    ['overall + 3 slicing specs (24 hours, top-10 origins, 5 origins x 2 halves)', sliced],
    [`bootstrap, ${resamples} resamples, sort once + counts as weights`, bootstrap],
    [`bootstrap, ${resamples} resamples, copy rows + sort each (textbook)`, naive],
  ] as const;
  const lines = [
    `rows evaluated: ${rows} (February 2001${every > 1 ? `, every ${every}th flight` : ''}); median of ${repeat} runs`,
    '',
    '| step | wall ms | CPU ms | wall / scoring | CPU / scoring |',
    '|---|---:|---:|---:|---:|',
    ...table.map(([name, m]) => `| ${name} | ${m.wall.toFixed(0)} | ${m.cpu.toFixed(0)} | ${(m.wall / scoreOnly.wall).toFixed(2)} | ${(m.cpu / scoreOnly.cpu).toFixed(2)} |`),
    '',
    `bootstrap speed-up of sort-once over textbook: ${(naive.wall / bootstrap.wall).toFixed(1)}x wall, ${(naive.cpu / bootstrap.cpu).toFixed(1)}x CPU`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
