import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { toTensor } from '../onnx/tensors.js';
import type { ModelSignature } from '../registry/types.js';
import { makeTempDir } from '../../test/support/flights.js';
import { buildServingModel, runComponent, type ServingModelFixture } from '../../test/support/serving-model.js';
import { evaluateComponent, type EvaluationReport } from './component.js';
import type { Blessing } from './blessing.js';

let fixture: ServingModelFixture;
let weaker: ServingModelFixture;
let removeDir: (() => Promise<void>) | undefined;

before(async () => {
  const dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  fixture = await buildServingModel(dir);
  // Trained on other months for one epoch: a different model over the same features.
  weaker = await buildServingModel(dir, { artifacts: fixture.artifacts, months: [3], every: 2000, epochs: 1 });
});
after(() => removeDir?.());

async function evaluate(parameters: Record<string, unknown>, baseline = false) {
  const outputs = await runComponent(
    fixture.artifacts,
    evaluateComponent,
    { model: fixture.servingModel, examples: fixture.examples, baseline: baseline ? weaker.servingModel : undefined },
    parameters,
  );
  const report = JSON.parse(await readFile(join(outputs.evaluation.path, 'evaluation.json'), 'utf8')) as EvaluationReport;
  const blessing = JSON.parse(await readFile(join(outputs.blessing.path, 'blessing.json'), 'utf8')) as Blessing;
  return { outputs, report, blessing };
}

/** Scores the eval split without the batch runner: DuckDB rows, tensors, one ONNX Runtime run. */
async function scoreDirectly(modelDir: string): Promise<{ predictions: Float32Array; labels: number[] }> {
  const signature = JSON.parse(await readFile(join(modelDir, 'signature.json'), 'utf8')) as ModelSignature;
  const rows = await withDuckDB(async (db) => {
    const result = await db.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(join(fixture.examples.path, 'eval', 'data.parquet'))})`);
    return result.getRowObjects();
  });
  const session = await ort.InferenceSession.create(join(modelDir, 'model.onnx'));
  const feeds = Object.fromEntries(signature.inputs.map((spec) => [spec.name, toTensor(spec, rows.map((row) => row[spec.name]))]));
  const output = await session.run(feeds);
  await session.release();
  return { predictions: output.probability.data as Float32Array, labels: rows.map((row) => (row.delayed ? 1 : 0)) };
}

function pairwiseAuc(predictions: Float32Array, labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      wins += predictions[i] > predictions[j] ? 1 : predictions[i] === predictions[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

test('evaluates the candidate on the eval split; metrics match a direct run of the model', async () => {
  const { outputs, report, blessing } = await evaluate({});
  const direct = await scoreDirectly(fixture.servingModel.path);
  assert.equal(report.rowCount, direct.labels.length);
  assert.equal(report.split, 'eval');
  assert.equal(report.labelColumn, 'delayed', 'the label column defaults to the model property');
  assert.ok(Math.abs((report.metrics.auc ?? NaN) - pairwiseAuc(direct.predictions, direct.labels)) < 1e-12);
  const positives = direct.labels.filter((label) => label === 1).length;
  assert.equal(report.metrics.positive_rate, positives / direct.labels.length);
  assert.ok((report.metrics.auc ?? 0) > 0.55, `a trained model beats chance (auc ${report.metrics.auc})`);
  assert.equal(report.baselineMetrics, null);
  assert.equal(blessing.blessed, true);
  assert.match(blessing.reason, /no baseline/);
  assert.deepEqual(outputs.evaluation.properties, { metrics: report.metrics, baselineMetrics: null, rowCount: report.rowCount });
  assert.deepEqual(outputs.blessing.properties, { blessed: true, reason: blessing.reason });
});

test('compares with the baseline on the same rows and blesses by the chosen metric', async () => {
  const { report, blessing } = await evaluate({ metric: 'log_loss' }, true);
  assert.ok(report.baselineMetrics);
  assert.equal(report.baselineMetrics.row_count, report.rowCount);
  const direct = await scoreDirectly(weaker.servingModel.path);
  assert.ok(Math.abs((report.baselineMetrics.auc ?? NaN) - pairwiseAuc(direct.predictions, direct.labels)) < 1e-12);
  const expected = (report.metrics.log_loss ?? Infinity) <= (report.baselineMetrics.log_loss ?? -Infinity);
  assert.equal(blessing.blessed, expected);
  assert.match(blessing.reason, /log_loss/);
  assert.match(blessing.reason, new RegExp(String(Number(report.baselineMetrics.log_loss?.toPrecision(6)))));
});

test('a model tied with its baseline is blessed at margin 0 and not blessed with a margin', async () => {
  const run = async (minImprovement: number) =>
    runComponent(fixture.artifacts, evaluateComponent, { model: fixture.servingModel, examples: fixture.examples, baseline: fixture.servingModel }, { minImprovement });
  assert.equal((await run(0)).blessing.properties.blessed, true);
  const withMargin = await run(0.01);
  assert.equal(withMargin.blessing.properties.blessed, false);
  assert.match(String(withMargin.blessing.properties.reason), /not blessed/);
});

test('a missing label column is INVALID_ARGUMENT naming it and listing the columns', async () => {
  await assert.rejects(
    () => evaluate({ labelColumn: 'arrived_late' }),
    (error: unknown) =>
      error instanceof LoomError &&
      error.code === 'INVALID_ARGUMENT' &&
      error.field === 'labelColumn' &&
      /arrived_late/.test(error.message) &&
      /origin/.test(error.message) &&
      /delayed/.test(error.message),
  );
});

test('parameters default to the eval split, auc and no margin', () => {
  assert.deepEqual(evaluateComponent.parameters.parse({}), { split: 'eval', metric: 'auc', minImprovement: 0 });
  assert.equal(evaluateComponent.parameters.safeParse({ metric: 'f1' }).success, false);
  assert.equal(evaluateComponent.parameters.safeParse({ minImprovement: -0.1 }).success, false);
});
