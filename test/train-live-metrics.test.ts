// The train step streams its curves to tracking: per epoch, training log loss and the eval
// split's log loss and accuracy, on a real flights slice through the real transform.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JsonObject } from '../src/core/json.js';
import { silentProgress } from '../src/core/progress.js';
import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { openTestPlatform } from './support/databases.js';
import type { InputArtifact } from '../src/pipeline/component.js';
import { StepTrackingLogger } from '../src/tracking/logger.js';
import { trainComponent, trainParameters } from '../src/train/component.js';
import { transformComponent, transformParameters } from '../src/transform/component.js';
import { makeTempDir, writeFlightsSlice } from './support/flights.js';
import { testServices } from './support/services.js';

const artifact = (path: string, properties: JsonObject = {}): InputArtifact => ({ id: 1, uri: `file://${path}`, path, fingerprint: 'test', properties });

test('training logs train and eval metrics per epoch to its tracking run', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1], every: 200 });
  const examples = join(dir, 'examples');
  for (const split of ['train', 'eval']) {
    await mkdir(join(examples, split), { recursive: true });
    const keep = split === 'train' ? '< 8' : '>= 8';
    await withDuckDB((db) =>
      db.run(`COPY (SELECT hour(date)::BIGINT AS hour, distance, origin, delay > 15 AS delayed FROM read_parquet(${sqlString(raw)})
              WHERE hash(date, origin) % 10 ${keep}) TO ${sqlString(join(examples, split, 'data.parquet'))} (FORMAT PARQUET)`),
    );
  }
  const outputs = { transformGraph: join(dir, 'graph'), transformedExamples: join(dir, 'transformed'), model: join(dir, 'model') };
  for (const path of Object.values(outputs)) await mkdir(path);
  const services = testServices();
  const transformed = await transformComponent.execute({
    inputs: { examples: artifact(examples), schema: artifact(join(dir, 'schema')) },
    outputs: { transformGraph: outputs.transformGraph, transformedExamples: outputs.transformedExamples },
    parameters: transformParameters.parse({ labelColumn: 'delayed', topK: 30 }),
  }, { ...services, progress: silentProgress });

  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const tracking = new StepTrackingLogger(db.tracking, { experimentName: 'flights', runName: 'train-1', tags: { 'loom.step': 'train' } });
  const result = await trainComponent.execute({
    inputs: {
      transformedExamples: artifact(outputs.transformedExamples, transformed.properties.transformedExamples),
      transformGraph: artifact(outputs.transformGraph, transformed.properties.transformGraph),
    },
    outputs: { model: outputs.model },
    parameters: trainParameters.parse({ epochs: 4, seed: 3 }),
  }, { ...services, tracking });
  await tracking.end('FINISHED');

  const runId = (await tracking.runId())!;
  const run = (await db.tracking.getRun(runId))!;
  assert.equal(run.info.status, 'FINISHED');
  assert.equal(run.data.params.epochs, '4');
  assert.equal(run.data.params.algorithm, 'logistic_regression');
  const history = async (key: string) => (await db.tracking.getMetricHistory(runId, key)).items;
  const trainLoss = await history('train_log_loss');
  assert.deepEqual(trainLoss.map((m) => m.step), [1, 2, 3, 4]);
  assert.deepEqual(trainLoss.map((m) => m.value), result.properties.model.lossPerEpoch);
  const evalLoss = await history('eval_log_loss');
  const evalAccuracy = await history('eval_accuracy');
  assert.deepEqual(evalLoss.map((m) => m.step), [1, 2, 3, 4]);
  assert.ok(evalLoss.every((m) => m.value > 0 && m.value < 1), 'eval log loss is a plausible binary log loss');
  assert.ok(evalAccuracy.every((m) => m.value > 0.5 && m.value <= 1));
  assert.ok(evalLoss.at(-1)!.value < evalLoss[0]!.value, 'the eval loss falls as training goes on');
});
