/**
 * Logistic regression as an online learner, end to end through the `loom` command: a model
 * trained and registered on one month is updated on the next month's span with
 * `loom train <pipeline> --update flights@champion` (lineage records the champion as an
 * input of the new model, which composes, evaluates and serves like any other).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runLoom } from '../support/cli.js';
import { makeTempDir, writeFlightsSlice } from '../support/flights.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/flights/pipeline.ts', import.meta.url));

interface Output {
  id: number;
  uri: string;
  properties: Record<string, unknown>;
}
interface RunJson {
  runId: string;
  state: string;
  steps: { step: string; state: string; outputs: Record<string, Output> }[];
}

async function writePipeline(dir: string, name: string, source: string, options: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `import { flightsPipeline } from ${JSON.stringify(EXAMPLE)};\nexport default flightsPipeline({ source: ${JSON.stringify(source)}, schemaPath: ${JSON.stringify(join(dir, 'flights.schema.json'))}, ${options} });\n`);
  return file;
}

function output(run: RunJson, step: string, name: string): Output {
  const found = run.steps.find((s) => s.step === step);
  assert.ok(found, `the run has a ${step} step`);
  assert.equal(found.state, 'COMPLETE', `${step} completed`);
  const artifact = found.outputs[name];
  assert.ok(artifact, `${step} has an output ${name}`);
  return artifact;
}

test('loom train --update continues the champion on the next span: better on the new span than training from scratch, with the champion in its lineage', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const source = join(dir, 'flights.parquet');
  await writeFlightsSlice(source, { months: [1, 2, 3], every: 30 });
  const trainer = "trainer: { algorithm: 'logistic_regression', epochs: 3, learningRate: 0.02, l1: 0.0001, chunkRows: 2000, seed: 7 }";

  const first = await runLoom(['run', await writePipeline(dir, 'january.ts', source, `trainMonth: 1, ${trainer}`), '--json'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const champion = output(JSON.parse(first.stdout) as RunJson, 'compose', 'servingModel');

  const february = await writePipeline(dir, 'february.ts', source, `trainMonth: 2, ${trainer}`);
  const missing = await runLoom(['train', february, '--update', 'flights@nosuchalias'], { cwd: dir });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no version of "flights" has the alias "nosuchalias"/);

  const updated = await runLoom(['train', february, '--update', 'flights@champion', '--json'], { cwd: dir });
  assert.equal(updated.code, 0, updated.stderr);
  const run = JSON.parse(updated.stdout) as RunJson;
  const model = output(run, 'train', 'model');
  const training = model.properties.training as Record<string, unknown>;
  assert.equal(training.warmStartedFrom, champion.uri, 'the model records the model it continued');
  assert.ok((training.columnsKnownToWarmStart as number) > 10, 'most columns carry their weights over');
  const evaluation = output(run, 'evaluate', 'evaluation').properties as { metrics: Record<string, number> };

  // The same pipeline from scratch: the update, which carries January over, does better on March.
  const scratch = await runLoom(['run', february, '--json'], { cwd: dir });
  assert.equal(scratch.code, 0, scratch.stderr);
  const scratchRun = JSON.parse(scratch.stdout) as RunJson;
  const fresh = output(scratchRun, 'train', 'model');
  assert.notEqual(fresh.uri, model.uri, 'an update is not the model trained from scratch on the same span');
  assert.equal((fresh.properties.training as Record<string, unknown>).warmStartedFrom, undefined);
  const freshMetrics = (output(scratchRun, 'evaluate', 'evaluation').properties as { metrics: Record<string, number> }).metrics;
  assert.ok(evaluation.metrics.auc! > freshMetrics.auc!, `updated AUC ${evaluation.metrics.auc} vs from scratch ${freshMetrics.auc}`);
  assert.ok(evaluation.metrics.log_loss! < freshMetrics.log_loss!, `updated log loss ${evaluation.metrics.log_loss} vs from scratch ${freshMetrics.log_loss}`);

  // Lineage: the champion's serving model is an input of the updating train step.
  const shown = await runLoom(['runs', 'show', run.runId, '--json'], { cwd: dir });
  assert.equal(shown.code, 0, shown.stderr);
  const trainStep = (JSON.parse(shown.stdout) as { steps: { step: string; inputs: { name: string; artifact: { uri: string } }[] }[] }).steps.find((s) => s.step === 'train');
  assert.equal(trainStep?.inputs.find((input) => input.name === 'warmStartFrom')?.artifact.uri, champion.uri);
});
