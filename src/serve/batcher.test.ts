import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { makeTempDir } from '../../test/support/flights.js';
import { buildServingModel, type ServingModelFixture } from '../../test/support/serving-model.js';
import { readFile } from 'node:fs/promises';
import type { ModelSignature } from '../registry/types.js';
import { Batcher, type RunnableSession } from './batcher.js';
import { compileSignature, fromRecords, type CompiledSignature } from './features.js';

let fixture: ServingModelFixture;
let session: ort.InferenceSession;
let compiled: CompiledSignature;
let signature: ModelSignature;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  const dir = await makeTempDir((fn) => void cleanups.push(fn));
  fixture = await buildServingModel(dir);
  signature = JSON.parse(await readFile(join(fixture.servingModel.path, 'signature.json'), 'utf8')) as ModelSignature;
  compiled = compileSignature(signature);
  session = await ort.InferenceSession.create(join(fixture.servingModel.path, 'model.onnx'), { intraOpNumThreads: 1 });
});

after(async () => {
  await session?.release();
  for (const cleanup of cleanups) await cleanup();
});

const record = (i: number) => ({ hour: i % 24, weekday: (i % 7) + 1, distance: 200 + i * 37, origin: ['SFO', 'LAX', 'ORD', 'JFK'][i % 4]!, destination: ['SEA', 'DEN', 'ATL', 'BOS'][i % 4]! });

/** The real session, counting runs and rows. */
function counting(): RunnableSession & { runs: number[] } {
  const runs: number[] = [];
  return {
    runs,
    run: (feeds) => {
      runs.push(Number(Object.values(feeds)[0]!.dims[0]));
      return session.run(feeds);
    },
  };
}

test('concurrent requests coalesce into fewer runs, and each gets exactly its own rows back', async () => {
  const runner = counting();
  const batcher = new Batcher(runner, compiled, signature.outputs, { maxBatchSize: 64, maxWaitMicros: 1000 });
  const requests = Array.from({ length: 40 }, (_, i) => [record(i), record(i + 100)]);
  const answers = await Promise.all(requests.map((rows) => batcher.run(fromRecords(rows, compiled, 'instances'))));
  assert.ok(runner.runs.length < 40, `40 requests took ${runner.runs.length} runs`);
  assert.equal(runner.runs.reduce((a, b) => a + b, 0), 80);
  assert.ok(Math.max(...runner.runs) <= 64);
  // Each answer equals running that request alone.
  for (let i = 0; i < requests.length; i += 7) {
    const alone = await new Batcher(session, compiled, signature.outputs, { maxBatchSize: 1, maxWaitMicros: 0 }).run(fromRecords(requests[i]!, compiled, 'instances'));
    assert.deepEqual(answers[i]![0]!.shape, [2, 1]);
    answers[i]![0]!.data.forEach((value, row) => assert.ok(Math.abs((value as number) - (alone[0]!.data[row] as number)) < 1e-6));
  }
});

test('one request at a time runs at once, alone: no waiting for a batch', async () => {
  const runner = counting();
  const batcher = new Batcher(runner, compiled, signature.outputs, { maxBatchSize: 64, maxWaitMicros: 10_000_000 });
  for (let i = 0; i < 5; i++) await batcher.run(fromRecords([record(i)], compiled, 'instances'));
  // With a 10 s max wait, finishing at all proves nothing waited for the timer.
  assert.deepEqual(runner.runs, [1, 1, 1, 1, 1]);
});

test('a failed run fails only the requests in it, and the batcher keeps serving', async () => {
  let fail = true;
  const flaky: RunnableSession = { run: (feeds) => (fail ? Promise.reject(new Error('device lost')) : session.run(feeds)) };
  const batcher = new Batcher(flaky, compiled, signature.outputs, { maxBatchSize: 8, maxWaitMicros: 100 });
  await assert.rejects(() => batcher.run(fromRecords([record(1)], compiled, 'instances')), /device lost/);
  fail = false;
  const answer = await batcher.run(fromRecords([record(2)], compiled, 'instances'));
  assert.equal(answer[0]!.data.length, 1);
});
