/**
 * Logistic regression streamed from disk against the same training in memory, measured in
 * the same run on real flights (transformed by the transform graph: one-hot airports and
 * hours, z-scored distance): seconds per epoch, rows per second and the final training
 * loss, for the whole matrix in memory and for the train step's streaming at two chunk
 * sizes. Streaming reads every epoch from disk (the page cache, on a warm run) and shuffles
 * within each chunk (the next chunk is read while the current one trains); the ratio shows
 * what holding two chunks instead of the matrix costs.
 *
 * Usage: node --import tsx bench/linear-streaming.ts [--every 2] [--epochs 3] [--out bench/results/linear-streaming.md]
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { flightsParquetPath } from '../src/data/datasets.js';
import { formatTable } from '../src/cli/output.js';
import { fitTransform } from '../src/transform/analyzers.js';
import { applyTransform, FEATURES_FILE } from '../src/transform/apply.js';
import { TRANSFORMED_META_FILE } from '../src/transform/component.js';
import { buildTransformGraph } from '../src/transform/graph.js';
import { countClasses, parseLogisticOptions, trainLogisticRegression } from '../src/train/logistic-regression.js';
import { streamLogisticRegression } from '../src/train/logistic-stream.js';
import { readTransformedChunks, readTransformedLabels, readTransformedSplit } from '../src/train/transformed-data.js';

const { values } = parseArgs({ options: { every: { type: 'string', default: '2' }, epochs: { type: 'string', default: '3' }, out: { type: 'string' } } });
const EVERY = Number(values.every);
const EPOCHS = Number(values.epochs);

const dir = await mkdtemp(join(tmpdir(), 'loom-bench-linear-'));
try {
  const raw = join(dir, 'raw.parquet');
  await withDuckDB((db) =>
    db.run(`COPY (SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS weekday, distance, origin, destination, delay > 15 AS delayed
                  FROM read_parquet(${sqlString(flightsParquetPath())}) WHERE month(date) IN (1, 2) AND hash(date, origin, destination, delay) % ${EVERY} = 0)
            TO ${sqlString(raw)} (FORMAT PARQUET)`),
  );
  const fitted = await fitTransform(raw, { labelColumn: 'delayed', topK: 60 });
  const graphPath = join(dir, 'transform.onnx');
  await writeFile(graphPath, buildTransformGraph(fitted));
  const data = join(dir, 'transformed');
  await applyTransform({ graphPath, parquetPath: raw, splitDir: join(data, 'train'), labelColumn: 'delayed' });
  await writeFile(join(data, TRANSFORMED_META_FILE), JSON.stringify({ width: fitted.outputWidth, featureNames: fitted.featureNames ?? [] }));
  const width = fitted.outputWidth;
  const bytes = (await stat(join(data, 'train', FEATURES_FILE))).size;
  const options = { epochs: EPOCHS, learningRate: 0.01, batchSize: 1024, seed: 7 };

  const inMemoryStarted = performance.now();
  const split = await readTransformedSplit(data, 'train');
  const loaded = performance.now();
  const inMemory = trainLogisticRegression(split.features, split.labels, width, options);
  const inMemoryEpoch = (performance.now() - loaded) / 1000 / EPOCHS;
  const loadSeconds = (loaded - inMemoryStarted) / 1000;
  const rows = split.labels.length;

  const streamed = async (chunkRows: number) => {
    const resolved = parseLogisticOptions(options);
    let counts: Float64Array<ArrayBuffer> | undefined;
    for await (const { labels } of readTransformedLabels(data, 'train')) counts = countClasses(labels, resolved, counts);
    const started = performance.now();
    const epochs = streamLogisticRegression(() => readTransformedChunks(data, 'train', chunkRows), width, resolved, { classCounts: counts! });
    let next = await epochs.next();
    while (!next.done) next = await epochs.next();
    return { seconds: (performance.now() - started) / 1000 / EPOCHS, loss: next.value.lossPerEpoch.at(-1)! };
  };
  const big = await streamed(65_536);
  const small = await streamed(8192);

  const row = (name: string, seconds: number, loss: number) => [name, seconds.toFixed(3), String(Math.round(rows / seconds)), loss.toFixed(5), (seconds / inMemoryEpoch).toFixed(2)];
  const table = formatTable(
    ['training', 'seconds per epoch', 'rows/s', `training log loss after ${EPOCHS} epochs`, 'time vs in memory'],
    [
      row('in memory (whole matrix, reference)', inMemoryEpoch, inMemory.lossPerEpoch.at(-1)!),
      row('streamed, 65,536-row chunks (train step default)', big.seconds, big.loss),
      row('streamed, 8,192-row chunks', small.seconds, small.loss),
    ],
  );
  const note = `${rows} rows x ${width} columns (features.f32 ${(bytes / 2 ** 20).toFixed(0)} MiB; in memory also spent ${loadSeconds.toFixed(2)} s loading it once). ` +
    `Load average ${loadavg()[0]!.toFixed(2)}; 2 cores shared with other work, so noisy.`;
  const text = `# Logistic regression: streamed from disk vs in memory\n\n\`\`\`\n${table}\n\`\`\`\n\n${note}\n\nReproduce: \`node --import tsx bench/linear-streaming.ts --every ${EVERY} --epochs ${EPOCHS}\`\n`;
  process.stdout.write(text);
  if (values.out) await writeFile(values.out, text);
} finally {
  await rm(dir, { recursive: true, force: true });
}
