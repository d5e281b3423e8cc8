import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isLoomError } from '../../core/errors.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { testPython } from '../../../test/support/python.js';
import { TRANSFORMED_WIDTH, writeTransformedExamples } from '../../../test/support/transformed-examples.js';
import { runCustomTrainer } from './custom-trainer.js';

const SCRIPT = join(import.meta.dirname, '../../../test/python/custom_train.py');
const WIDTH = TRANSFORMED_WIDTH;

test('a custom Python trainer (scikit-learn + skl2onnx) becomes a Loom model that scores as scikit-learn does', async (t) => {
  const python = testPython();
  if (!python) return t.skip('needs LOOM_TEST_PYTHON (run with npm test)');
  const dir = await makeTempDir((fn) => t.after(fn));
  const { dataDir, evalFeatures } = await writeTransformedExamples(dir);
  const modelPath = join(dir, 'model.onnx');
  const lines: string[] = [];
  const run = { dataDir, modelPath, width: WIDTH, onOutput: (line: string) => lines.push(line) };

  const result = await runCustomTrainer({ command: [python, SCRIPT], params: { C: 0.5 } }, run);
  assert.equal(result.adapted, true, 'the [N, 2] probabilities were reduced to `probability`');
  assert.ok(lines.some((line) => line.startsWith('custom trainer: eval AUC')), 'the script output was streamed');
  const sklearn = JSON.parse(lines[lines.length - 1]) as number[];
  const session = await ort.InferenceSession.create(modelPath);
  const scored = await session.run({ features: new ort.Tensor('float32', Float32Array.from(evalFeatures.slice(0, 20 * WIDTH)), [20, WIDTH]) });
  await session.release();
  assert.deepEqual(session.outputNames, ['probability']);
  const probability = scored.probability.data as Float32Array;
  sklearn.forEach((p, i) => assert.ok(Math.abs(probability[i] - p) < 1e-6, `row ${i}: ONNX ${probability[i]}, scikit-learn ${p}`));

  await t.test('a script that exits non-zero fails with its output in the error', async () => {
    await assert.rejects(runCustomTrainer({ command: [python, SCRIPT], params: { fail: true } }, run), (error) => {
      return isLoomError(error) && error.code === 'FAILED_PRECONDITION' && /exited with code 3/.test(error.message) && /asked to fail/.test(error.message);
    });
  });
  await t.test('a script that writes no model fails saying so', async () => {
    await assert.rejects(runCustomTrainer({ command: [python, SCRIPT], params: { write_model: false } }, run), (error) => {
      return isLoomError(error) && error.code === 'FAILED_PRECONDITION' && /wrote no model/.test(error.message);
    });
  });
  await t.test('a program that does not exist, and a malformed spec, are refused naming the field', async () => {
    await assert.rejects(runCustomTrainer({ command: ['/no/such/trainer'] }, run), (error) => isLoomError(error) && error.field === 'command');
    await assert.rejects(runCustomTrainer({ command: [] }, run), (error) => isLoomError(error) && error.code === 'INVALID_ARGUMENT' && error.field === 'command');
  });
});
