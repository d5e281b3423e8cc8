import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { toTensor } from '../onnx/tensors.js';
import type { ModelSignature } from '../registry/types.js';
import { makeTempDir } from '../../test/support/flights.js';
import { testServices } from '../../test/support/services.js';
import { buildServingModel, runComponent, type ServingModelFixture } from '../../test/support/serving-model.js';
import { aucRoc } from './binary-metrics.js';
import type { Blessing } from './blessing.js';
import { evaluateComponent, type EvaluationReport } from './component.js';

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

const SLICES = [{ columns: [{ feature: 'hour', boundaries: [6, 12, 18] }] }, { name: 'airport', columns: [{ feature: 'origin', top: 5 }] }];

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
async function scoreDirectly(modelDir: string) {
  const signature = JSON.parse(await readFile(join(modelDir, 'signature.json'), 'utf8')) as ModelSignature;
  const rows = await withDuckDB(async (db) => {
    const result = await db.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(join(fixture.examples.path, 'eval', 'data.parquet'))})`);
    return result.getRowObjects();
  });
  const session = await ort.InferenceSession.create(join(modelDir, 'model.onnx'));
  const feeds = Object.fromEntries(signature.inputs.map((spec) => [spec.name, toTensor(spec, rows.map((row) => row[spec.name]))]));
  const output = await session.run(feeds);
  await session.release();
  return { predictions: output.probability!.data as Float32Array, labels: rows.map((row) => (row.delayed ? 1 : 0)), rows };
}

test('evaluates on the eval split: metrics match a direct run, slices by hour bucket and top airports, a model card', async () => {
  const { outputs, report, blessing } = await evaluate({ slices: SLICES, bootstrap: { resamples: 50 } });
  const direct = await scoreDirectly(fixture.servingModel.path);
  assert.equal(report.rowCount, direct.labels.length);
  assert.equal(report.labelColumn, 'delayed', 'the label column defaults to the model property');
  assert.ok(Math.abs((report.metrics.auc ?? NaN) - aucRoc(direct.predictions, direct.labels)) < 1e-12);
  assert.ok((report.metrics.auc ?? 0) > 0.55, `a trained model beats chance (auc ${report.metrics.auc})`);
  assert.ok(report.confidenceIntervals.auc!.lower < report.metrics.auc! && report.metrics.auc! < report.confidenceIntervals.auc!.upper);

  const hours = report.slices.filter((s) => s.spec === 'hour');
  assert.deepEqual(hours.map((s) => s.key), ['hour:< 6', 'hour:[6, 12)', 'hour:[12, 18)', 'hour:>= 18'].filter((k) => hours.some((s) => s.key === k)));
  assert.equal(hours.reduce((n, s) => n + s.exampleCount, 0), report.rowCount);
  const morning = direct.rows.flatMap((row, i) => (Number(row.hour) >= 6 && Number(row.hour) < 12 ? [i] : []));
  const morningSlice = hours.find((s) => s.key === 'hour:[6, 12)')!;
  assert.equal(morningSlice.exampleCount, morning.length);
  assert.ok(Math.abs(morningSlice.metrics.auc! - aucRoc(morning.map((i) => direct.predictions[i]!), morning.map((i) => direct.labels[i]!))) < 1e-12);
  assert.equal(report.slices.filter((s) => s.spec === 'airport').length, 5);

  assert.equal(blessing.blessed, true);
  assert.match(blessing.reason, /no baseline/);
  assert.deepEqual(outputs.evaluation.properties, { metrics: report.metrics, baselineMetrics: null, rowCount: report.rowCount });
  assert.deepEqual(outputs.blessing.properties, { blessed: true, reason: blessing.reason });
  const card = await readFile(join(outputs.evaluation.path, 'model_card.md'), 'utf8');
  assert.match(card, /^# Model card/);
  assert.match(card, /\| hour:\[6, 12\) \| \d+ \|/);
  assert.ok(card.includes(String(fixture.examples.uri)), 'the card names the data artifact');
  const html = await readFile(join(outputs.evaluation.path, 'model_card.html'), 'utf8');
  assert.match(html, /<table>/);
  assert.match(html, /hour:\[6, 12\)/);
});

test('thresholds against the baseline on the same rows decide the blessing, per slice too', async () => {
  const thresholds = [{ metric: 'log_loss', change: { absolute: 0 } }, { metric: 'auc', slice: 'hour', value: { lowerBound: 0.5 } }];
  const { report, blessing } = await evaluate({ slices: SLICES, thresholds, bootstrap: { resamples: 0 } }, true);
  assert.ok(report.baselineMetrics);
  assert.equal(report.baselineMetrics.example_count, report.rowCount);
  const direct = await scoreDirectly(weaker.servingModel.path);
  assert.ok(Math.abs((report.baselineMetrics.auc ?? NaN) - aucRoc(direct.predictions, direct.labels)) < 1e-12);
  const checks = report.thresholds as { metric: string; target: string; passed: boolean | null }[];
  assert.equal(checks.filter((c) => c.metric === 'auc').length, report.slices.filter((s) => s.spec === 'hour').length);
  const lossCheck = checks.find((c) => c.metric === 'log_loss')!;
  assert.equal(lossCheck.passed, (report.metrics.log_loss ?? Infinity) <= (report.baselineMetrics.log_loss ?? -Infinity));
  assert.equal(blessing.blessed, checks.every((c) => c.passed !== false));
  assert.ok(report.slices.every((s) => s.baselineMetrics !== null));
});

test('a model tied with its baseline passes "not worse" and fails a margin', async () => {
  const run = async (absolute: number) =>
    runComponent(fixture.artifacts, evaluateComponent, { model: fixture.servingModel, examples: fixture.examples, baseline: fixture.servingModel }, { thresholds: [{ metric: 'auc', change: { absolute } }], bootstrap: { resamples: 0 } });
  assert.equal((await run(0)).blessing.properties.blessed, true);
  const withMargin = await run(0.01);
  assert.equal(withMargin.blessing.properties.blessed, false);
  assert.match(String(withMargin.blessing.properties.reason), /not blessed/);
});

test('bad config: a missing label or slice feature is INVALID_ARGUMENT naming the field, and nothing is written', async () => {
  const outputs = { evaluation: await fixture.artifacts.stage(), blessing: await fixture.artifacts.stage() };
  const attempt = (parameters: Record<string, unknown>) =>
    evaluateComponent.execute({
      inputs: { model: fixture.servingModel, examples: fixture.examples, baseline: undefined },
      outputs,
      parameters: evaluateComponent.parameters.parse(parameters),
    }, testServices({ artifacts: fixture.artifacts }));
  const rejects = (parameters: Record<string, unknown>, field: string, named: RegExp) =>
    assert.rejects(attempt(parameters), (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT' && error.field === field && named.test(error.message) && /origin/.test(error.message));
  await rejects({ labelColumn: 'arrived_late' }, 'labelColumn', /arrived_late/);
  await rejects({ slices: [{ columns: [{ feature: 'hour' }] }, { columns: [{ feature: 'carrier' }] }] }, 'slices[1].columns[0].feature', /carrier/);
  await rejects({ slices: [{ columns: [{ feature: 'origin', width: 5 }] }] }, 'slices[0].columns[0].feature', /VARCHAR/);
  await rejects({ fairness: [{ features: ['gender'] }] }, 'fairness[0].features[0]', /gender/);
  assert.deepEqual(await readdir(outputs.evaluation), []);
  assert.deepEqual(await readdir(outputs.blessing), []);
});

test('bad config caught before any data is read: unknown metrics, unknown slice specs, fairness without a binary task', () => {
  const issue = (raw: Record<string, unknown>) => {
    const result = evaluateComponent.parameters.safeParse(raw);
    assert.equal(result.success, false);
    return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
  };
  assert.match(issue({ thresholds: [{ metric: 'aucc', value: { lowerBound: 0.5 } }] }), /thresholds\.0\.metric: unknown metric "aucc".*auc, auc_pr/);
  assert.match(issue({ thresholds: [{ metric: 'rmse', value: { upperBound: 1 } }] }), /unknown metric "rmse" for a binary task/);
  assert.match(issue({ thresholds: [{ metric: 'auc', slice: 'hour', value: { lowerBound: 0.5 } }] }), /thresholds\.0\.slice: no slicing spec named "hour"/);
  assert.match(issue({ thresholds: [{ metric: 'auc' }] }), /value threshold, a change threshold/);
  assert.match(issue({ thresholds: [{ metric: 'demographic_parity_difference', value: { upperBound: 0.1 } }] }), /thresholds\.0\.fairness/);
  assert.match(issue({ task: 'regression', fairness: [{ features: ['origin'] }] }), /fairness: fairness metrics need a binary task/);
  assert.match(issue({ thresholds: [{ metric: 'positive_rate', change: { absolute: 0 } }] }), /no better direction/);
  assert.match(issue({ slices: [{ columns: [{ feature: 'hour' }] }, { columns: [{ feature: 'hour', width: 2 }] }] }), /two slicing specs are named "hour"/);
  assert.match(issue({ slices: [{ columns: [{ feature: 'hour', width: 2, boundaries: [3] }] }] }), /one of boundaries, width and time/);
  assert.equal(evaluateComponent.parameters.safeParse({ metric: 'auc' }).success, false, 'unknown keys are refused');
});
