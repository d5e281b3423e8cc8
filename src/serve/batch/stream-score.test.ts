/**
 * The streaming core of batch scoring against the other two places a row is scored: a model
 * input reads its column as batch-runner.ts (evaluation) and the server (src/onnx/tensors.ts) read it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withDuckDB } from '../../data/duckdb.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { readSignature } from '../../onnx/inspect.js';
import { columnTypes, inputColumns, scoreStream } from './stream-score.js';

/** distance * 2, in float32. */
function doublingModel(): Uint8Array {
  const g = new GraphBuilder('doubling');
  g.addInput('distance', 'float32', [-1, 1]);
  g.addInitializer('two', new Float32Array([2]), [1, 1]);
  g.addNode('Mul', ['distance', 'two'], ['doubled']);
  g.addOutput('doubled', 'float32', [-1, 1]);
  return g.toBytes();
}

test('a float32 input reads its column as a number rounded to float32, as the server does: a value past float32\'s range is infinite, not a failed job', async () => {
  const model = doublingModel();
  const signature = readSignature(model);
  const from = '(SELECT * FROM (VALUES (1.1::DOUBLE), (1e39::DOUBLE), (-1e39::DOUBLE), (NULL)) AS t(distance))';
  const doubled = await withDuckDB(async (db) => {
    const scored: number[] = [];
    await scoreStream(db, { columns: inputColumns(signature, await columnTypes(db, from)), from, description: 'four distances' }, {
      model,
      signature,
      keepCount: 0,
      workers: 1,
      onBatch: ({ outputs }) => void scored.push(...(outputs.doubled as Float32Array)),
    });
    return scored;
  });
  // What the server's tensor holds for the same JSON numbers, doubled.
  assert.deepEqual(doubled, [...Float32Array.from([1.1, 1e39, -1e39, NaN])].map((x) => Math.fround(x * 2)));
});
