import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runProcess } from '../../../test/support/cli.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { startScorePool } from './score-pool.js';

/**
 * A child process that builds a model slow enough to be caught mid-run (a chain of 64×64
 * MatMuls over 16k rows: tens of ms a batch), sends one worker two batches, and closes the
 * pool as soon as the first is back, while the worker scores the second.
 */
const CLOSE_WHILE_SCORING = `
  import { GraphBuilder } from ${JSON.stringify(new URL('../../onnx/builder.ts', import.meta.url).href)};
  import { startScorePool } from ${JSON.stringify(new URL('./score-pool.ts', import.meta.url).href)};
  const WIDTH = 64, LAYERS = 60, ROWS = 16384;
  const graph = new GraphBuilder('slow');
  let value = graph.addInput('x', 'float32', [-1, WIDTH]);
  const weights = graph.addInitializer('w', new Float32Array(WIDTH * WIDTH).fill(1 / WIDTH), [WIDTH, WIDTH]);
  for (let layer = 0; layer < LAYERS; layer++) {
    const out = layer === LAYERS - 1 ? 'y' : 'h' + layer;
    graph.addNode('MatMul', [value, weights], [out]);
    value = out;
  }
  graph.addOutput('y', 'float32', [-1, WIDTH]);
  const pool = await startScorePool(graph.toBytes(), 1);
  const batch = () => [{ name: 'x', type: 'float32', data: new Float32Array(ROWS * WIDTH).fill(1), dims: [ROWS, WIDTH] }];
  const first = pool.run(batch());
  const second = pool.run(batch()).then((outputs) => outputs.y.length, (error) => error.message);
  await first;
  await pool.close();
  console.log(JSON.stringify({ closed: true, second: await second }));
`;

test('closing the pool while a worker scores a batch lets the batch finish instead of aborting the process', async (t) => {
  // A file, not --eval: the workers would inherit --input-type and refuse to start.
  const script = join(await makeTempDir(t.after.bind(t)), 'close-while-scoring.mts');
  await writeFile(script, CLOSE_WHILE_SCORING);
  // Terminating the worker mid-run aborted the process (SIGABRT, "terminate called after throwing
  // an instance of 'Napi::Error'") in most runs; no run may abort.
  for (let attempt = 0; attempt < 3; attempt++) {
    const child = await runProcess(process.execPath, ['--import', 'tsx', script]);
    assert.equal(child.code, 0, child.stderr);
    assert.doesNotMatch(child.stderr, /terminate called/);
    assert.deepEqual(JSON.parse(child.stdout), { closed: true, second: 16384 * 64 });
  }
});

test('a model ONNX Runtime cannot load fails the pool with FAILED_PRECONDITION, every worker stopped', async () => {
  await assert.rejects(startScorePool(new TextEncoder().encode('not an onnx model'), 2), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'FAILED_PRECONDITION');
    assert.match(error.message, /ONNX Runtime cannot load the model/);
    return true;
  });
});
