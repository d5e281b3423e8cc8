/**
 * `loom evaluate` as a user runs it: two registered versions of a real flights model in a
 * project, evaluated on a Parquet file and then on that file's dataset version, compared
 * with a baseline version, sliced, thresholded, blessed or refused, and recorded.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openTestPlatform } from '../support/databases.js';
import { evaluationConfig } from '../../src/evaluate/config.js';
import { taskMetrics } from '../../src/evaluate/metrics.js';
import type { EvaluationReport } from '../../src/evaluate/report.js';
import { scoreEvaluationData } from '../../src/evaluate/scoring.js';
import type { ModelSignature } from '../../src/registry/types.js';
import { LocalArtifactStore } from '../../src/store/local-artifact-store.js';
import { runCompiledLoom } from '../support/cli.js';
import { makeTempDir } from '../support/flights.js';
import { buildServingModel, type ServingModelFixture } from '../support/serving-model.js';

let dir: string;
let fixture: ServingModelFixture;
let weaker: ServingModelFixture;
let evalFile: string;
let removeDir: (() => Promise<void>) | undefined;
after(() => removeDir?.());

before(async () => {
  dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  const artifacts = new LocalArtifactStore(join(dir, '.loom', 'artifacts'));
  fixture = await buildServingModel(dir, { artifacts });
  weaker = await buildServingModel(dir, { artifacts, months: [3], every: 2000, epochs: 1 });
  evalFile = join(fixture.examples.path, 'eval', 'data.parquet');
  const project = await openTestPlatform(join(dir, '.loom'));
  try {
    await project.registry.ensureRegisteredModel('flights');
    for (const model of [weaker, fixture]) {
      const signature = JSON.parse(await readFile(join(model.servingModel.path, 'signature.json'), 'utf8')) as ModelSignature;
      await project.registry.createModelVersion({ modelName: 'flights', source: model.servingModel.uri, status: 'READY', signature, properties: { labelColumn: 'delayed' } });
    }
    await project.registry.setAlias('flights', 'champion', 1, { actor: 'test', reason: 'first model' });
  } finally {
    await project.close();
  }
});

const loom = (args: string[]) => runCompiledLoom(args, { cwd: dir });

test('evaluates a version against the champion on a file: metrics, slices, thresholds, blessing, model card, recorded', async () => {
  const config = join(dir, 'eval-config.json');
  await writeFile(config, JSON.stringify({ thresholds: [{ metric: 'auc', change: { absolute: 0 } }, { metric: 'auc', slice: 'hour', value: { lowerBound: 0.3 } }], bootstrap: { resamples: 30 } }));
  const run = await loom(['evaluate', 'flights@2', '--data', evalFile, '--slice', 'hour:buckets=6/12/18', '--slice', 'origin:top3+hour:buckets=12', '--config', config, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as EvaluationReport & { model: { version: number }; baseline: { version: number } | null; executionId: number; evaluation: { uri: string } };
  assert.equal(result.model.version, 2);
  assert.equal(result.baseline?.version, 1, 'the champion is the default baseline');

  // The same numbers as scoring the file directly.
  const scoring = { task: 'binary' as const, predictionOutput: 'probability', labelColumn: 'delayed', features: [] };
  const candidate = await scoreEvaluationData(join(fixture.servingModel.path, 'model.onnx'), evalFile, scoring);
  const champion = await scoreEvaluationData(join(weaker.servingModel.path, 'model.onnx'), evalFile, scoring);
  assert.equal(result.metrics.auc, taskMetrics(candidate.predictions).auc);
  assert.equal(result.baselineMetrics?.auc, taskMetrics(champion.predictions).auc);

  assert.deepEqual([...new Set(result.slices.map((s) => s.spec))], ['hour', 'origin x hour']);
  assert.equal(result.slices.filter((s) => s.spec === 'origin x hour').length, 6);
  const expectBlessed = result.metrics.auc! >= result.baselineMetrics!.auc! && result.slices.filter((s) => s.spec === 'hour' && !s.small).every((s) => s.metrics.auc! >= 0.3);
  assert.equal(result.blessing.blessed, expectBlessed);
  assert.equal(result.thresholds.length, 1 + result.slices.filter((s) => s.spec === 'hour').length);

  const project = await openTestPlatform(join(dir, '.loom'));
  try {
    const execution = await project.metadata.getExecution(result.executionId);
    assert.equal(execution?.state, 'COMPLETE');
    assert.equal(execution?.typeName, 'evaluate');
    const events = await project.metadata.getEvents({ executionIds: [result.executionId] });
    assert.deepEqual(events.map((e) => `${e.type}:${e.name}`).sort(), ['INPUT:examples', 'OUTPUT:blessing', 'OUTPUT:evaluation']);
    const card = await readFile(join(await project.artifacts.localPath(result.evaluation.uri), 'model_card.md'), 'utf8');
    assert.match(card, /# Model card: flights version 2/);
    assert.match(card, /origin:[A-Z]{3}, hour:< 12/);
    assert.ok(card.includes(result.context.data.contentHash!), 'the card names the dataset version');
  } finally {
    await project.close();
  }

  // The file became a dataset version: evaluate again by its hash prefix, as a table.
  const again = await loom(['evaluate', 'flights@2', '--baseline', 'none', '--data', result.context.data.contentHash!.slice(0, 10), '--resamples', '0', '--slice', 'hour:buckets=12']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`auc\\s+${result.metrics.auc!.toFixed(4)}`));
  assert.match(again.stdout, /slices by hour:\n.*\nhour:< 12 /);
  assert.match(again.stdout, /blessed: no thresholds configured; no baseline/);
});

test('bad input is refused with the field named and nothing recorded', async () => {
  const count = async () => {
    const project = await openTestPlatform(join(dir, '.loom'));
    try {
      return (await project.metadata.listExecutions({ pageSize: 1000 })).items.length;
    } finally {
      await project.close();
    }
  };
  const before = await count();
  const missingFeature = await loom(['evaluate', 'flights@2', '--data', evalFile, '--slice', 'carrier']);
  assert.equal(missingFeature.code, 2);
  assert.match(missingFeature.stderr, /slices\[0\]\.columns\[0\]\.feature names "carrier", which is not a column/);
  const missingLabel = await loom(['evaluate', 'flights@2', '--data', evalFile, '--label', 'late']);
  assert.equal(missingLabel.code, 2);
  assert.match(missingLabel.stderr, /labelColumn names "late"/);
  const config = join(dir, 'bad-config.json');
  await writeFile(config, JSON.stringify({ thresholds: [{ metric: 'auroc', value: { lowerBound: 0.5 } }] }));
  const unknownMetric = await loom(['evaluate', 'flights@2', '--data', evalFile, '--config', config]);
  assert.equal(unknownMetric.code, 2);
  assert.match(unknownMetric.stderr, /thresholds\[0\]\.metric: unknown metric "auroc"/);
  const badSlice = await loom(['evaluate', 'flights@2', '--slice', 'hour:every=3']);
  assert.equal(badSlice.code, 2);
  assert.match(badSlice.stderr, /--slice "hour:every=3"/);
  const noVersion = await loom(['evaluate', 'flights@9', '--data', evalFile]);
  assert.equal(noVersion.code, 3);
  assert.match(noVersion.stderr, /no version 9/);
  assert.equal(await count(), before, 'no execution was recorded');
  assert.equal(evaluationConfig.safeParse({ thresholds: [{ metric: 'auc', slice: 'nope', value: { lowerBound: 0 } }] }).success, false);
});
