/**
 * The train step's logistic regression killed with SIGKILL part-way and started again
 * continues from its last checkpoint to the very model (byte for byte) an uninterrupted
 * run with the same seed makes.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDir } from '../support/flights.js';
import { runTrainChild, spawnTrainChild, writeTransformed } from './support/linear-data.js';

/** Epochs in the checkpoint under `dir`, or 0. */
async function checkpointEpochs(dir: string): Promise<number> {
  const text = await readFile(join(dir, 'checkpoint.json'), 'utf8').catch(() => undefined);
  return text ? (JSON.parse(text) as { epochsDone: number }).epochsDone : 0;
}

test('logistic regression killed with SIGKILL resumes from its checkpoint to the same model as an uninterrupted run', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const data = await writeTransformed(join(dir, 'transformed'), 12);
  const parameters = { algorithm: 'logistic_regression', epochs: 8, learningRate: 0.02, l1: 1e-4, batchSize: 256, chunkRows: 50_000, checkpointEvery: 1, seed: 11 };

  await runTrainChild(data, join(dir, 'whole'), parameters);
  const expected = await readFile(join(dir, 'whole', 'model.onnx'));

  const checkpoints = join(dir, 'checkpoints');
  const child = spawnTrainChild(data, join(dir, 'killed'), parameters, checkpoints);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && (await checkpointEpochs(checkpoints)) < 2) await sleep(10);
  assert.equal(done, false, 'training was still running when the checkpoint appeared');
  child.kill('SIGKILL');
  await exited;
  const killedAt = await checkpointEpochs(checkpoints);
  assert.ok(killedAt >= 2 && killedAt < 8, `killed after epoch ${killedAt}`);

  const resumed = await runTrainChild(data, join(dir, 'resumed'), parameters, checkpoints);
  assert.match(resumed.log, new RegExp(`resuming after epoch ${killedAt}`));
  assert.deepEqual(await readFile(join(dir, 'resumed', 'model.onnx')), expected, 'the resumed model is byte-identical to the uninterrupted one');
  assert.equal(resumed.model.lossPerEpoch.length, 8);
});
