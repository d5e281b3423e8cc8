/**
 * Loom's gradient-boosted trees against LightGBM on the same flights matrices, in one run.
 * Train: January 2001 flights, evaluate: February; label: delay > 15 minutes; features:
 * hour, weekday, day, distance and the one-hot top-30 origin and destination airports
 * (the mostly-zero shape Loom's transform produces). Same trees, leaves, learning rate,
 * bins and minimum leaf size on both sides. Times include binning (LightGBM: Dataset
 * construction). LightGBM comes from pip inside this benchmark only.
 *
 * Goal (issue 4): AUC within 0.005 of LightGBM, wall time at most 3x. Then the seconds per
 * epoch of logistic regression and the MLP on the same rows.
 * Loom builds histograms on the machine's cores (at most 16) unless --threads says otherwise;
 * LightGBM uses all cores.
 * Run: node --import tsx bench/gbdt.ts [--trees 100] [--leaves 31] [--every 1] [--threads N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { flightsParquetPath } from '../src/data/datasets.js';
import { queryRows, sqlString, withDuckDB } from '../src/data/duckdb.js';
import { aucRoc } from '../src/evaluate/binary-metrics.js';
import { predictRaw, trainGbdt } from '../src/train/gbdt/boost.js';
import { MAX_SHARDS } from '../src/train/gbdt/histogram-pool.js';
import { trainLogisticRegression } from '../src/train/logistic-regression.js';
import { trainMlp } from '../src/train/mlp/mlp.js';
// @ts-expect-error plain ESM script without types
import { ensurePythonEnv } from '../scripts/python.mjs';

const { values: args } = parseArgs({
  options: { trees: { type: 'string', default: '100' }, leaves: { type: 'string', default: '31' }, every: { type: 'string', default: '1' }, threads: { type: 'string' } },
});
const trees = Number(args.trees);
const leaves = Number(args.leaves);
const every = Number(args.every);
const learningRate = 0.1;
const threads = args.threads === undefined ? Math.min(MAX_SHARDS, availableParallelism()) : Number(args.threads);

interface Split {
  features: Float32Array;
  labels: Float32Array;
}

async function flightsMatrices(): Promise<{ train: Split; eval: Split; width: number }> {
  const file = sqlString(flightsParquetPath());
  return withDuckDB(async (db) => {
    const top = async (column: string) =>
      (await queryRows(db, `SELECT ${column} AS v FROM read_parquet(${file}) WHERE month(date) = 1 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 30`)).map((row) => String(row.v));
    const origins = await top('origin');
    const destinations = await top('destination');
    const oneHot = (column: string, values: string[]) => values.map((v, i) => `(${column} = ${sqlString(v)})::FLOAT AS ${column}_${i}`);
    const columns = ['hour(date)::FLOAT AS hour', 'isodow(date)::FLOAT AS weekday', 'day(date)::FLOAT AS day', 'distance::FLOAT AS distance', ...oneHot('origin', origins), ...oneHot('destination', destinations)];
    const width = columns.length;
    const read = async (month: number): Promise<Split> => {
      const rows = await queryRows(
        db,
        `SELECT ${columns.join(', ')}, (delay > 15)::FLOAT AS label FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${file}))
         WHERE month(date) = ${month} AND rn % ${every} = 0 ORDER BY rn`,
      );
      const features = new Float32Array(rows.length * width);
      const labels = new Float32Array(rows.length);
      rows.forEach((row, i) => {
        const values = Object.values(row);
        for (let j = 0; j < width; j++) features[i * width + j] = Number(values[j]);
        labels[i] = Number(row.label);
      });
      return { features, labels };
    };
    return { train: await read(1), eval: await read(2), width };
  });
}

/** Seconds per epoch of the other trainers on the same rows (issue 4 asks them to report it), beside a GBDT round. */
async function epochTimes(train: Split, width: number, secondsPerTree: number): Promise<void> {
  const rows = train.labels.length;
  const lrStarted = performance.now();
  const lr = trainLogisticRegression(train.features, train.labels, width, { epochs: 2, batchSize: 1024, seed: 7 });
  const lrEpoch = (performance.now() - lrStarted) / 1000 / 2;
  const mlp = await trainMlp({ features: train.features, labels: train.labels, width }, { hiddenUnits: [64, 32], epochs: 2, batchSize: 1024, learningRate: 0.001, seed: 7 });
  const mlpEpoch = Math.min(...mlp.epochSeconds);
  console.log('');
  console.log('| trainer (1 thread) | seconds per epoch | rows/s | training loss after 2 epochs |');
  console.log('|---|---|---|---|');
  console.log(`| logistic regression (Adam, batch 1024) | ${lrEpoch.toFixed(2)} | ${Math.round(rows / lrEpoch)} | ${lr.lossPerEpoch[1]!.toFixed(4)} |`);
  console.log(`| MLP 64-32 (TensorFlow.js wasm, batch 1024) | ${mlpEpoch.toFixed(2)} | ${Math.round(rows / mlpEpoch)} | ${mlp.trainLoss[1]!.toFixed(4)} |`);
  console.log(`| gradient-boosted trees, one round (${threads} threads, for scale) | ${secondsPerTree.toFixed(3)} | ${Math.round(rows / secondsPerTree)} | |`);
}

const { train, eval: evalSplit, width } = await flightsMatrices();
const dir = await mkdtemp(join(tmpdir(), 'loom-bench-gbdt-'));
try {
  await writeFile(join(dir, 'train.f32'), train.features);
  await writeFile(join(dir, 'train.labels.f32'), train.labels);
  await writeFile(join(dir, 'eval.f32'), evalSplit.features);
  await writeFile(join(dir, 'eval.labels.f32'), evalSplit.labels);
  await writeFile(join(dir, 'meta.json'), JSON.stringify({ width }));

  const python: string = ensurePythonEnv({ venv: '.venv-bench', requirements: 'bench/python/requirements-bench.txt', override: 'LOOM_BENCH_PYTHON' });
  const reference = spawnSync(python, ['bench/python/lightgbm_reference.py', dir, String(trees), String(leaves), String(learningRate)], { encoding: 'utf8' });
  if (reference.status !== 0) throw new Error(`LightGBM reference failed: ${reference.stderr}`);
  const lightgbm = JSON.parse(reference.stdout) as { seconds: number; auc: number; threads: number };

  // The model does not depend on the threads; one thread shows the algorithm's own speed.
  const loom = async (threadCount: number) => {
    const started = performance.now();
    const model = await trainGbdt({ features: train.features, labels: train.labels, width }, { objective: 'binary', numTrees: trees, numLeaves: leaves, learningRate, earlyStoppingRounds: 0, threads: threadCount });
    const seconds = (performance.now() - started) / 1000;
    const raw = predictRaw(model, evalSplit.features, evalSplit.labels.length);
    return { seconds, auc: aucRoc(Array.from(raw, (s) => 1 / (1 + Math.exp(-s))), evalSplit.labels) };
  };
  const { seconds, auc } = await loom(threads);
  const single = threads === 1 ? undefined : await loom(1);

  const rows = [
    ['LightGBM 4.6 (reference)', lightgbm.seconds, lightgbm.auc, `${lightgbm.threads} threads`],
    ['Loom GBDT', seconds, auc, `${threads} thread${threads === 1 ? '' : 's'}`],
    ...(single ? [['Loom GBDT', single.seconds, single.auc, '1 thread'] as const] : []),
  ] as const;
  console.log(`train ${train.labels.length} rows (Jan), eval ${evalSplit.labels.length} rows (Feb), ${width} features; ${trees} trees, ${leaves} leaves, learning rate ${learningRate}`);
  console.log('| trainer | seconds | eval AUC | threads |');
  console.log('|---|---|---|---|');
  for (const [name, s, a, used] of rows) console.log(`| ${name} | ${s.toFixed(2)} | ${a.toFixed(4)} | ${used} |`);
  console.log(`time ratio Loom/LightGBM: ${(seconds / lightgbm.seconds).toFixed(2)} (goal <= 3)` + (single ? `; with 1 thread ${(single.seconds / lightgbm.seconds).toFixed(2)}` : ''));
  console.log(`AUC difference LightGBM - Loom: ${(lightgbm.auc - auc).toFixed(4)} (goal <= 0.005)`);
  await epochTimes(train, width, seconds / trees);
} finally {
  await rm(dir, { recursive: true, force: true });
}
