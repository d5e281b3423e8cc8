/**
 * The flights pipeline with each kind of trainer, end to end through the `loom` command:
 * gradient-boosted trees killed with SIGKILL part-way and continued from the checkpoint to
 * the very model an uninterrupted run makes; a tuning study from `loom tune`; a custom
 * Python trainer whose MLflow calls land in Loom's tracking over REST.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LOOM_BIN, runLoom } from '../support/cli.js';
import { makeTempDir, writeFlightsSlice } from '../support/flights.js';
import { testPython } from '../support/python.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/flights/pipeline.ts', import.meta.url));
const CUSTOM_SCRIPT = fileURLToPath(new URL('../python/custom_train.py', import.meta.url));

interface RunJson {
  runId: string;
  state: string;
  steps: { step: string; state: string; outputs: Record<string, { uri: string; properties: Record<string, unknown> }> }[];
}

async function writePipeline(dir: string, source: string, options: string): Promise<string> {
  const file = join(dir, 'pipeline.ts');
  const schemaPath = join(dir, 'flights.schema.json');
  await writeFile(file, `import { flightsPipeline } from ${JSON.stringify(EXAMPLE)};\nexport default flightsPipeline({ source: ${JSON.stringify(source)}, schemaPath: ${JSON.stringify(schemaPath)}, ${options} });\n`);
  return file;
}

function step(run: RunJson, name: string) {
  const found = run.steps.find((s) => s.step === name);
  assert.ok(found, `the run has a ${name} step`);
  return found;
}

/** The rounds in the newest checkpoint under `<home>/checkpoints`, or 0. */
async function checkpointRounds(home: string): Promise<number> {
  const root = join(home, 'checkpoints');
  for (const key of await readdir(root).catch(() => [])) {
    const text = await readFile(join(root, key, 'checkpoint.json'), 'utf8').catch(() => undefined);
    if (text) return (JSON.parse(text) as { rounds: number }).rounds;
  }
  return 0;
}

/** Starts `loom run` and kills it with SIGKILL once a checkpoint past `rounds` exists. */
async function runAndKill(dir: string, pipelineFile: string, rounds: number): Promise<void> {
  const home = join(dir, '.loom');
  const child = spawn(process.execPath, [LOOM_BIN, 'run', pipelineFile, '--json'], { cwd: dir, env: { ...process.env, LOOM_HOME: home }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && (await checkpointRounds(home)) < rounds) await sleep(20);
  assert.equal(done, false, 'training was still running when the checkpoint appeared');
  child.kill('SIGKILL');
  await exited;
}

test('gradient-boosted trees killed with SIGKILL continue from their checkpoint to the same model as an uninterrupted run', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const source = join(dir, 'flights.parquet');
  await writeFlightsSlice(source, { months: [1, 2], every: 6 });
  const options = "trainer: { algorithm: 'gbdt', numTrees: 150, numLeaves: 31, earlyStoppingRounds: 0, checkpointEvery: 5, seed: 7 }";

  const whole = join(dir, 'whole');
  const wholeRun = await runLoom(['run', await writePipeline(dir, source, options), '--json'], { cwd: dir, env: { LOOM_HOME: join(whole, '.loom') } });
  assert.equal(wholeRun.code, 0, wholeRun.stderr);
  const expected = step(JSON.parse(wholeRun.stdout) as RunJson, 'train').outputs.model!;
  assert.equal(expected.properties.stoppedBecause, 'completed');

  const pipelineFile = await writePipeline(dir, source, options);
  // Killed once and run again with `loom run`: the step finds its own checkpoint.
  await runAndKill(dir, pipelineFile, 20);
  // Killed again later, then continued with `loom train --resume <run id>`.
  const rerun = spawn(process.execPath, [LOOM_BIN, 'run', pipelineFile], { cwd: dir, env: { ...process.env, LOOM_HOME: join(dir, '.loom') }, stdio: ['ignore', 'ignore', 'pipe'] });
  let rerunLog = '';
  rerun.stderr.on('data', (chunk) => (rerunLog += chunk));
  const rerunExit = new Promise<void>((resolve) => rerun.on('exit', () => resolve()));
  let rerunDone = false;
  void rerunExit.then(() => (rerunDone = true));
  while (!rerunDone && (await checkpointRounds(join(dir, '.loom'))) < 60) await sleep(20);
  assert.equal(rerunDone, false, 'the second run was still training');
  rerun.kill('SIGKILL');
  await rerunExit;
  assert.match(rerunLog, /continuing from the checkpoint/, 'the second run continued from the first one\'s checkpoint');

  const runs = await runLoom(['runs', '--json'], { cwd: dir });
  const killed = (JSON.parse(runs.stdout) as { items: { runId: string; state: string }[] }).items[0]!;
  const resumed = await runLoom(['train', '--resume', killed.runId, '--json'], { cwd: dir });
  assert.equal(resumed.code, 0, resumed.stderr);
  const model = step(JSON.parse(resumed.stdout) as RunJson, 'train').outputs.model!;
  assert.equal(model.uri, expected.uri, 'the resumed model is byte-identical to the uninterrupted one');
  assert.deepEqual(await readdir(join(dir, '.loom', 'checkpoints')), [], 'a finished step removes its checkpoints');

  const nothing = await runLoom(['train', '--resume', JSON.parse(resumed.stdout).runId], { cwd: dir });
  assert.equal(nothing.code, 5);
  assert.match(nothing.stderr, /no failed or interrupted train step/);
});

test('loom tune runs a study in the pipeline; its best model is composed, evaluated and pushed', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const source = join(dir, 'flights.parquet');
  await writeFlightsSlice(source, { months: [1, 2], every: 40 });
  const tune = `tune: { trainer: 'gbdt', space: { learningRate: { type: 'loguniform', low: 0.05, high: 0.3 }, numLeaves: { type: 'int', low: 4, high: 31 } }, fixed: { numTrees: 20, earlyStoppingRounds: 0 }, trials: 20 }`;
  const pipelineFile = await writePipeline(dir, source, tune);
  const result = await runLoom(['tune', pipelineFile, '--trials', '4', '--parallel', '2', '--json'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const run = JSON.parse(result.stdout) as RunJson;
  const tuned = step(run, 'tune');
  assert.equal(tuned.state, 'COMPLETE');
  assert.equal(tuned.outputs.hyperparameters!.properties.trials, 4, '--trials replaced the pipeline\'s budget');
  assert.equal(step(run, 'evaluate').state, 'COMPLETE');
  assert.equal(step(run, 'push').state, 'COMPLETE', 'the first model is blessed and pushed');
  const tracked = await runLoom(['track', 'ls', '--experiment', 'flights', '--json'], { cwd: dir });
  assert.equal(tracked.code, 0, tracked.stderr);
  const trialRuns = new Set(tracked.stdout.match(/trial-\d+/g));
  assert.equal(trialRuns.size, 4, 'each trial is a nested tracking run under the study');

  const noTune = await runLoom(['tune', await writePipeline(dir, source, 'epochs: 1'), '--trials', '2'], { cwd: dir });
  assert.equal(noTune.code, 2);
  assert.match(noTune.stderr, /has no tune step/);
});

test('a custom Python trainer in the pipeline logs to Loom tracking through the MLflow client', async (t) => {
  const python = testPython();
  if (!python) return t.skip('needs LOOM_TEST_PYTHON (run with npm test)');
  const dir = await makeTempDir(t.after.bind(t));
  const source = join(dir, 'flights.parquet');
  await writeFlightsSlice(source, { months: [1, 2], every: 60 });
  const custom = `trainer: { algorithm: 'custom', command: [${JSON.stringify(python)}, ${JSON.stringify(CUSTOM_SCRIPT)}], params: { C: 0.3 } }`;
  const result = await runLoom(['run', await writePipeline(dir, source, custom), '--json'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const run = JSON.parse(result.stdout) as RunJson;
  assert.equal(step(run, 'train').outputs.model!.properties.algorithm, 'custom');
  assert.equal(step(run, 'evaluate').state, 'COMPLETE');

  const tracked = await runLoom(['track', 'ls', '--experiment', 'flights', '--json'], { cwd: dir });
  assert.equal(tracked.code, 0, tracked.stderr);
  const text = tracked.stdout;
  assert.match(text, /eval_auc/, 'the script\'s mlflow.log_metric reached the step\'s tracking run');

  const failing = await runLoom(['run', await writePipeline(dir, source, custom.replace('C: 0.3', 'fail: true')), '--json'], { cwd: dir });
  assert.equal(failing.code, 5);
  assert.match(failing.stderr, /exited with code 3/);
  assert.equal(step(JSON.parse(failing.stdout) as RunJson, 'train').state, 'FAILED');
});
