import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isLoomError } from '../../core/errors.js';
import { queryRows, sqlString, withDuckDB } from '../../data/duckdb.js';
import { aucRoc } from '../../evaluate/binary-metrics.js';
import { makeTempDir, writeFlightsSlice } from '../../../test/support/flights.js';
import { exportMlp } from './export.js';
import { FEATURES_FILE, LABELS_FILE } from '../../transform/apply.js';
import { TRANSFORMED_META_FILE } from '../../transform/component.js';
import { holdOut, holdOutChunks, readTransformedChunks } from '../transformed-data.js';
import { predictMlp, trainMlp, type MlpCheckpoint, type MlpMatrix } from './mlp.js';

/** Real flights, scaled numeric features (hour, weekday, distance), label delay > 15; every 5th row is validation. */
async function flights(dir: string): Promise<{ train: MlpMatrix; valid: MlpMatrix }> {
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1], every: 40 });
  const rows = await withDuckDB((db) =>
    queryRows(
      db,
      `SELECT hour(date) / 24.0 AS hour, isodow(date) / 7.0 AS weekday, distance / 2000.0 AS distance,
              (delay > 15)::DOUBLE AS delayed, row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)}) ORDER BY rn`,
    ),
  );
  const build = (keep: (rn: number) => boolean): MlpMatrix => {
    const chosen = rows.filter((row) => keep(Number(row.rn)));
    const features = Float32Array.from(chosen.flatMap((row) => [Number(row.hour), Number(row.weekday), Number(row.distance)]));
    return { features, labels: Float32Array.from(chosen, (row) => Number(row.delayed)), width: 3 };
  };
  return { train: build((rn) => rn % 5 !== 0), valid: build((rn) => rn % 5 === 0) };
}

test('the MLP learns delays from real flights, exports to ONNX with the same outputs, and resumes bit for bit', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const { train, valid } = await flights(dir);
  const options = { hiddenUnits: [16, 8], epochs: 4, batchSize: 128, learningRate: 0.01, seed: 7 };

  const model = await trainMlp(train, options, valid);
  assert.equal(model.epochSeconds.length, 4);
  assert.ok(model.validationLoss[3] < model.validationLoss[0], `validation loss ${model.validationLoss.join(', ')}`);

  const session = await ort.InferenceSession.create(exportMlp(model));
  const rows = valid.labels.length;
  const onnx = (await session.run({ features: new ort.Tensor('float32', valid.features, [rows, 3]) })).probability.data as Float32Array;
  await session.release();
  assert.ok(aucRoc(onnx, valid.labels) > 0.55, 'the exported graph ranks delays better than chance');
  const expected = predictMlp(model, valid.features, rows);
  for (let i = 0; i < rows; i++) assert.ok(Math.abs(onnx[i] - expected[i]) < 1e-5, `row ${i}: ONNX ${onnx[i]}, weights ${expected[i]}`);
  const again = await trainMlp(train, options, valid);
  assert.deepEqual(again.layers, model.layers, 'the same seed gives the same weights');

  let checkpoint: MlpCheckpoint | undefined;
  await trainMlp(train, options, valid, {
    onEpoch: async ({ epoch, checkpoint: take }) => {
      if (epoch === 1) {
        checkpoint = await take();
        return 'stop';
      }
      return undefined;
    },
  });
  assert.equal(checkpoint?.epochsDone, 2);
  const resumed = await trainMlp(train, options, valid, { resumeFrom: checkpoint });
  assert.deepEqual(resumed.layers, model.layers, 'resuming after epoch 2 ends with the uninterrupted weights');
  assert.deepEqual(resumed.trainLoss, model.trainLoss);
});

test('the MLP refuses NaN features, bad labels and unknown hyperparameters, naming the field', async () => {
  const data: MlpMatrix = { features: new Float32Array([0, 1, 2, 3]), labels: new Float32Array([0, 1]), width: 2 };
  const refused = async (promise: Promise<unknown>, field: string) =>
    assert.rejects(promise, (error) => isLoomError(error) && error.code === 'INVALID_ARGUMENT' && error.field === field);
  await refused(trainMlp({ ...data, features: new Float32Array([0, Number.NaN, 2, 3]) }), 'features');
  await refused(trainMlp({ ...data, labels: new Float32Array([0, 3]) }), 'label');
  await refused(trainMlp(data, { hiddenUnits: [0] }), 'hiddenUnits[0]');
  await refused(trainMlp(data, { layers: 2 } as never), 'layers');
});

test('streamed from disk in chunks: one chunk trains the same network as the matrix; small chunks learn; the hold-out is the same rows', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { train } = await flights(dir);
  await mkdir(join(dir, 'data', 'train'), { recursive: true });
  await writeFile(join(dir, 'data', TRANSFORMED_META_FILE), JSON.stringify({ width: 3, featureNames: ['hour', 'weekday', 'distance'] }));
  await writeFile(join(dir, 'data', 'train', FEATURES_FILE), train.features);
  await writeFile(join(dir, 'data', 'train', LABELS_FILE), train.labels);
  const stream = (chunkRows: number, part: 'fit' | 'holdout') => ({
    width: 3,
    chunks: () => holdOutChunks(readTransformedChunks(join(dir, 'data'), 'train', chunkRows), 5, part),
  });
  const options = { hiddenUnits: [16, 8], epochs: 4, batchSize: 128, learningRate: 0.01, seed: 7 };

  const { fit, holdout } = holdOut(train, 5);
  const rows = async (source: ReturnType<typeof stream>) => {
    const parts: number[] = [];
    for await (const chunk of source.chunks()) parts.push(...chunk.labels);
    return Float32Array.from(parts);
  };
  assert.deepEqual(await rows(stream(333, 'holdout')), holdout.labels, 'chunked hold-out = in-memory hold-out');
  assert.deepEqual(await rows(stream(333, 'fit')), fit.labels);

  const inMemory = await trainMlp(fit, options);
  const oneChunk = await trainMlp(stream(1_000_000, 'fit'), options, stream(1_000_000, 'holdout'));
  assert.deepEqual(oneChunk.layers, inMemory.layers, 'one chunk = the matrix, bit for bit');
  const chunked = await trainMlp(stream(500, 'fit'), options, stream(500, 'holdout'));
  assert.notDeepEqual(chunked.layers, inMemory.layers);
  const scores = predictMlp(chunked, holdout.features, holdout.labels.length);
  const auc = aucRoc(scores, holdout.labels);
  assert.ok(auc > 0.55, `the chunked network ranks delays better than chance: AUC ${auc}`);
  assert.equal(chunked.validationLoss.length, 4);
});
