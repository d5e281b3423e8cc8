import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isLoomError } from '../../core/errors.js';
import { queryRows, sqlString, withDuckDB } from '../../data/duckdb.js';
import { aucRoc } from '../../evaluate/binary-metrics.js';
import { makeTempDir, writeFlightsSlice } from '../../../test/support/flights.js';
import { binMatrix } from './binning.js';
import { predictRaw, trainGbdt, type GbdtModel, type Matrix } from './boost.js';
import { exportGbdt } from './export.js';
import { objectiveFunctions } from './objectives.js';
import { mergePartitions, partitionRange, shardStart } from './partition.js';

const COLUMNS = ['hour', 'weekday', 'distance', 'origin_rank', 'destination_rank', 'day'];

/**
 * Real flights as a numeric matrix: hour, weekday, distance, airport popularity ranks and
 * day of month, with label columns for the three objectives. Every 7th row is validation.
 * Distance is NaN on a few rows so the missing-value path is trained and exported too.
 */
async function flights(dir: string): Promise<{ train: Record<string, Matrix>; valid: Record<string, Matrix> }> {
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1, 2], every: 60 });
  const rows = await withDuckDB((db) =>
    queryRows(
      db,
      `WITH f AS (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)})),
            o AS (SELECT origin, rank() OVER (ORDER BY count(*) DESC, origin) AS r FROM f GROUP BY origin),
            d AS (SELECT destination, rank() OVER (ORDER BY count(*) DESC, destination) AS r FROM f GROUP BY destination)
       SELECT hour(date)::DOUBLE AS hour, isodow(date)::DOUBLE AS weekday,
              CASE WHEN rn % 50 = 0 THEN 'NaN'::DOUBLE ELSE distance::DOUBLE END AS distance,
              o.r::DOUBLE AS origin_rank, d.r::DOUBLE AS destination_rank, day(date)::DOUBLE AS day,
              (delay > 15)::DOUBLE AS delayed, least(greatest(delay, -10), 120)::DOUBLE AS delay,
              CASE WHEN delay <= 0 THEN 0 WHEN delay <= 15 THEN 1 ELSE 2 END::DOUBLE AS delay_class, rn
       FROM f JOIN o USING (origin) JOIN d USING (destination) ORDER BY rn`,
    ),
  );
  const build = (keep: (rn: number) => boolean): Record<string, Matrix> => {
    const chosen = rows.filter((row) => keep(Number(row.rn)));
    const features = new Float32Array(chosen.length * COLUMNS.length);
    chosen.forEach((row, i) => COLUMNS.forEach((column, j) => (features[i * COLUMNS.length + j] = Number(row[column]))));
    const labels = (column: string) => Float32Array.from(chosen, (row) => Number(row[column]));
    return {
      binary: { features, labels: labels('delayed'), width: COLUMNS.length },
      multiclass: { features, labels: labels('delay_class'), width: COLUMNS.length },
      regression: { features, labels: labels('delay'), width: COLUMNS.length },
    };
  };
  return { train: build((rn) => rn % 7 !== 0), valid: build((rn) => rn % 7 === 0) };
}

/** The matrix with one-hot columns for the `top` most frequent origin and destination ranks appended. */
function withOneHotAirports(data: Matrix, top: number): Matrix {
  const rows = data.labels.length;
  const width = data.width + 2 * top;
  const features = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) {
    features.set(data.features.subarray(i * data.width, (i + 1) * data.width), i * width);
    for (const [column, offset] of [[3, 0], [4, top]]) {
      const rank = data.features[i * data.width + column];
      if (rank <= top) features[i * width + data.width + offset + rank - 1] = 1;
    }
  }
  return { features, labels: data.labels, width };
}

async function onnxScores(model: GbdtModel, data: Matrix): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(exportGbdt(model));
  try {
    const rows = data.labels.length;
    const result = await session.run({ features: new ort.Tensor('float32', data.features, [rows, data.width]) });
    return result[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

test('gradient-boosted trees on real flights: binary, multiclass and regression learn, and ONNX scores what JavaScript scores', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const { train, valid } = await flights(dir);

  await t.test('binary: beats chance on held-out flights; the ONNX graph gives the same probabilities', async () => {
    const model = await trainGbdt(train.binary, { objective: 'binary', numTrees: 40, numLeaves: 15 }, valid.binary);
    assert.ok(model.validationLoss[model.bestRound - 1] < model.validationLoss[0], 'validation loss falls');
    const raw = predictRaw(model, valid.binary.features, valid.binary.labels.length);
    const auc = aucRoc(Array.from(raw, sigmoid), valid.binary.labels);
    assert.ok(auc > 0.6, `validation AUC ${auc}`);
    const onnx = await onnxScores(model, valid.binary);
    for (let i = 0; i < raw.length; i++) assert.ok(Math.abs(onnx[i] - sigmoid(raw[i])) < 1e-5, `row ${i}: ${onnx[i]} vs ${sigmoid(raw[i])}`);
  });

  await t.test('categorical: airport codes split one against the rest, and ONNX routes them the same way', async () => {
    // Columns 3 and 4 are airport ranks, integers from 1: used as category codes here.
    const options = { objective: 'binary' as const, numTrees: 20, numLeaves: 15, categoricalFeatures: [3, 4], earlyStoppingRounds: 0 };
    const model = await trainGbdt(train.binary, options, valid.binary);
    assert.ok(model.trees.some((tree) => tree.categorical.some(Boolean)), 'some split is on a category');
    const raw = predictRaw(model, valid.binary.features, valid.binary.labels.length);
    const onnx = await onnxScores(model, valid.binary);
    for (let i = 0; i < raw.length; i++) assert.ok(Math.abs(onnx[i] - sigmoid(raw[i])) < 1e-5, `row ${i}`);
    await assert.rejects(trainGbdt(train.binary, { ...options, categoricalFeatures: [2] }), (error) => isLoomError(error) && error.field === 'categoricalFeatures');
  });

  await t.test('multiclass: softmax probabilities sum to one and match ONNX', async () => {
    const model = await trainGbdt(train.multiclass, { objective: 'multiclass', numClasses: 3, numTrees: 15, numLeaves: 7 }, valid.multiclass);
    assert.equal(model.trees.length, model.bestRound * 3);
    assert.ok(model.validationLoss[model.bestRound - 1] < Math.log(3), 'better than a uniform guess');
    const onnx = await onnxScores(model, valid.multiclass);
    const raw = predictRaw(model, valid.multiclass.features, valid.multiclass.labels.length);
    for (let i = 0; i < 50; i++) {
      const logits = [raw[i * 3], raw[i * 3 + 1], raw[i * 3 + 2]];
      const max = Math.max(...logits);
      const exp = logits.map((l) => Math.exp(l - max));
      const sum = exp.reduce((a, b) => a + b, 0);
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(onnx[i * 3 + k] - exp[k] / sum) < 1e-5);
    }
  });

  await t.test('regression: squared error falls below the variance of the labels', async () => {
    const watched: number[] = [];
    const model = await trainGbdt(train.regression, { objective: 'regression', numTrees: 30, numLeaves: 15, earlyStoppingRounds: 0 }, undefined, {
      onRound: ({ trainLoss }) => void watched.push(trainLoss as number),
    });
    assert.deepEqual(watched, model.trainLoss, 'a watched run without validation data reports its training loss each round');
    const labels = train.regression.labels;
    const mean = labels.reduce((a, b) => a + b, 0) / labels.length;
    const variance = labels.reduce((a, y) => a + (y - mean) ** 2, 0) / labels.length;
    assert.ok(model.trainLoss[model.trainLoss.length - 1] < variance);
    const onnx = await onnxScores(model, valid.regression);
    const raw = predictRaw(model, valid.regression.features, valid.regression.labels.length);
    for (let i = 0; i < raw.length; i++) assert.ok(Math.abs(onnx[i] - raw[i]) < 1e-3 * Math.max(1, Math.abs(raw[i])));
  });

  await t.test('the same seed gives the same trees, and a resumed run equals an uninterrupted one', async () => {
    const options = { objective: 'binary' as const, numTrees: 12, numLeaves: 15, earlyStoppingRounds: 0 };
    const whole = await trainGbdt(train.binary, options, valid.binary);
    assert.deepEqual((await trainGbdt(train.binary, options, valid.binary)).trees, whole.trees);
    let checkpoint: GbdtModel | undefined;
    const interrupted = await trainGbdt(train.binary, options, valid.binary, {
      onRound: ({ round, model }) => {
        checkpoint = structuredClone(model) as GbdtModel;
        return round === 4 ? 'stop' : undefined;
      },
    });
    assert.equal(interrupted.stoppedBecause, 'stopped');
    assert.equal(checkpoint?.trees.length, 5);
    const resumed = await trainGbdt(train.binary, options, valid.binary, { resumeFrom: checkpoint });
    assert.deepEqual(resumed.trees, whole.trees);
    assert.deepEqual(resumed.validationLoss, whole.validationLoss);
  });

  await t.test('the trees do not depend on the number of threads, for every objective', async () => {
    // Leaves of this size are built in shards, and the gradients of these rows are computed in
    // shards, by the calling thread and two workers here; one thread computes everything alone.
    const objectives = [
      ['binary', {}],
      ['multiclass', { numClasses: 3 }],
      ['regression', {}],
    ] as const;
    for (const [objective, extra] of objectives) {
      const options = { objective, ...extra, numTrees: 6, numLeaves: 15, earlyStoppingRounds: 0 };
      const single = await trainGbdt(train[objective], { ...options, threads: 1 }, valid[objective]);
      const threaded = await trainGbdt(train[objective], { ...options, threads: 3 }, valid[objective]);
      assert.deepEqual(threaded.trees, single.trees, objective);
      assert.deepEqual(threaded.validationLoss, single.validationLoss, objective);
    }
  });

  await t.test('one-hot columns are bundled, and training routes rows by bin exactly as prediction does by value', async () => {
    const data = withOneHotAirports(train.binary, 10);
    const binned = binMatrix(data.features, data.labels.length, data.width);
    // 6 numeric columns, then 10 origin and 10 destination one-hot columns: one group per vocabulary.
    assert.ok(binned.groups <= 8, `${binned.groups} groups for ${data.width} columns`);
    const model = await trainGbdt(data, { objective: 'binary', numTrees: 15, numLeaves: 15, earlyStoppingRounds: 0 }, undefined, { onRound: () => undefined });
    assert.ok(model.trees.some((tree) => tree.feature.some((f) => f >= COLUMNS.length)), 'some split is on a one-hot column');
    // Each round's training loss comes from scores updated by the rows' bins; predictRaw walks raw values.
    const loss = objectiveFunctions('binary', 2).loss;
    const replayed = model.trainLoss.map((_, round) => loss(predictRaw({ ...model, trees: model.trees.slice(0, round + 1) }, data.features, data.labels.length), data.labels));
    assert.equal(model.trainLoss.length, 15);
    assert.deepEqual(model.trainLoss, replayed);
  });

  await t.test('early stopping keeps the round with the lowest validation loss', async () => {
    const model = await trainGbdt(train.binary, { objective: 'binary', numTrees: 300, numLeaves: 63, learningRate: 0.5, minDataInLeaf: 2, earlyStoppingRounds: 3 }, valid.binary);
    assert.equal(model.stoppedBecause, 'early_stopping');
    assert.equal(model.validationLoss[model.bestRound - 1], Math.min(...model.validationLoss));
    assert.equal(model.trees.length, model.bestRound);
    assert.ok(model.validationLoss.length < 300);
  });
});

test('bad hyperparameters and labels are refused with the field named', async () => {
  const data: Matrix = { features: new Float32Array([1, 2, 3, 4]), labels: new Float32Array([0, 1]), width: 2 };
  const refused = (fn: () => Promise<unknown>, field: string) =>
    assert.rejects(fn, (error) => isLoomError(error) && error.code === 'INVALID_ARGUMENT' && error.field === field);
  await refused(() => trainGbdt(data, { numLeaves: 1 }), 'numLeaves');
  await refused(() => trainGbdt(data, { learningRate: 0 }), 'learningRate');
  await refused(() => trainGbdt(data, { objective: 'multiclass' }), 'numClasses');
  await refused(() => trainGbdt(data, { numTrees: 5, leaves: 3 } as never), 'leaves');
  await refused(() => trainGbdt({ ...data, labels: new Float32Array([0, 2]) }, {}), 'label');
  await refused(() => trainGbdt({ ...data, labels: new Float32Array([0, Number.NaN]) }, { objective: 'regression' }), 'label');
});

test('a leaf partitioned in any number of shards has the row order of one stable pass', () => {
  const rows = 10_000;
  const column = Uint16Array.from({ length: rows }, (_, i) => (i * 7919) % 13);
  const goesLeft = Uint8Array.from({ length: 14 }, (_, bin) => (bin % 3 === 0 ? 1 : 0));
  // A permutation of the rows (4099 and 10000 are coprime), partitioned over [start, end).
  const order = Uint32Array.from({ length: rows }, (_, i) => (i * 4099) % rows);
  const [start, end] = [123, 9876];
  const leaf = Array.from(order.subarray(start, end));
  const left = leaf.filter((i) => goesLeft[column[i]] === 1);
  const expected = [...order.subarray(0, start), ...left, ...leaf.filter((i) => goesLeft[column[i]] === 0), ...order.subarray(end)];
  for (const count of [1, 2, 5, 32]) {
    const rowIndex = order.slice();
    const scratch = new Uint32Array(rows);
    const lefts = new Int32Array(64);
    for (let s = 0; s < count; s++) lefts[s] = partitionRange(rowIndex, scratch, column, goesLeft, shardStart(start, end, s, count), shardStart(start, end, s + 1, count));
    assert.equal(mergePartitions(rowIndex, scratch, lefts, start, end, count), start + left.length, `${count} shards`);
    assert.deepEqual(Array.from(rowIndex), expected, `${count} shards`);
  }
});
