import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelSignature } from '../registry/types.js';
import { InvalidRequestError, compileSignature, fromColumns, fromRecords, fromSplit, fromV2Inputs } from './features.js';
import { parseCsv } from './routes/mlflow.js';

const signature: ModelSignature = {
  inputs: [
    { name: 'distance', type: 'int64', shape: [-1, 1] },
    { name: 'origin', type: 'string', shape: [-1, 1] },
    { name: 'embedding', type: 'float32', shape: [-1, 3] },
  ],
  outputs: [{ name: 'probability', type: 'float32', shape: [-1, 1] }],
};
const compiled = compileSignature(signature);

function problemsOf(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof InvalidRequestError, String(error));
    return error.problems.map((problem) => problem.field);
  }
  assert.fail('expected the request to be refused');
}

test('every request form gives the same columns, in signature order', () => {
  const records = fromRecords([{ origin: 'SFO', distance: 300, embedding: [0.5, 1, 2] }, { origin: null, distance: null, embedding: [[0], [1], [2]] }], compiled, 'instances');
  assert.deepEqual(records, { rowCount: 2, columns: [[300, null], ['SFO', null], [0.5, 1, 2, 0, 1, 2]] });
  assert.deepEqual(fromColumns({ distance: [300, null], origin: ['SFO', null], embedding: [[0.5, 1, 2], [0, 1, 2]] }, compiled, 'inputs'), records);
  assert.deepEqual(fromSplit({ columns: ['embedding', 'origin', 'distance'], data: [[[0.5, 1, 2], 'SFO', 300], [[0, 1, 2], null, null]] }, compiled, 'dataframe_split'), records);
  const v2 = fromV2Inputs(
    [
      { name: 'origin', shape: [2], datatype: 'BYTES', data: ['SFO', null] },
      { name: 'distance', shape: [2, 1], datatype: 'INT64', data: [[300], [null]] },
      { name: 'embedding', shape: [2, 3], datatype: 'FP32', data: [0.5, 1, 2, 0, 1, 2] },
    ],
    compiled,
  );
  assert.deepEqual(v2, records);
});

test('all problems are reported at once, each naming its field', () => {
  assert.deepEqual(problemsOf(() => fromRecords([{ distance: 'far', origin: 3, embedding: [1, 2] }, { extra: 1 }, 'row'], compiled, 'instances')), [
    'instances[0].distance',
    'instances[0].origin',
    'instances[0].embedding',
    'instances[1].extra',
    'instances[1].distance',
    'instances[1].origin',
    'instances[1].embedding',
    'instances[2]',
  ]);
  assert.deepEqual(problemsOf(() => fromColumns({ distance: [1, 2], origin: ['a'], embedding: 'x', color: [] }, compiled, 'inputs')), ['inputs.color', 'inputs.origin', 'inputs.embedding']);
  assert.deepEqual(problemsOf(() => fromSplit({ columns: ['distance', 'distance', 'hue'], data: [[1, 2]] }, compiled, 'dataframe_split')), [
    'dataframe_split.columns[1]',
    'dataframe_split.columns[2]',
    'dataframe_split.columns',
    'dataframe_split.columns',
  ]);
  assert.deepEqual(problemsOf(() => fromRecords([], compiled, 'instances')), ['instances']);
  assert.deepEqual(problemsOf(() => fromRecords({ distance: 1 }, compiled, 'instances')), ['instances']);
  // A huge bad request reports a bounded number of problems.
  assert.equal(problemsOf(() => fromRecords(Array.from({ length: 10_000 }, () => ({ distance: 'x' })), compiled, 'instances')).length, 50);
});

test('CSV: header, quoted fields with commas and quotes, CRLF', () => {
  assert.deepEqual(parseCsv('origin,note\r\n"SFO","a, ""b"""\r\nLAX,\n'), { header: ['origin', 'note'], rows: [['SFO', 'a, "b"'], ['LAX', '']] });
  assert.throws(() => parseCsv(''), InvalidRequestError);
  assert.throws(() => parseCsv('a\n"open'), /quoted/);
});
