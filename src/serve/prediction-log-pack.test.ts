import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PredictionRecord } from './prediction-log.js';
import { openBatch, RecordPacker, packRecords, unpackRecords } from './prediction-log-pack.js';

function record(i: number, names: readonly string[], failure?: PredictionRecord['failure']): PredictionRecord {
  return {
    requestId: `r${i}`,
    modelName: 'flights',
    modelVersion: 1,
    role: 'primary',
    protocol: 'v2',
    inputNames: names,
    rows: { rowCount: 2, columns: [[i, i + 1], ['SFO', 'ORD']] },
    outputs: [{ name: 'probability', type: 'float32', shape: [2, 1], data: [i / 8, i / 16] }],
    latencyMs: 0.25,
    at: 1_700_000_000_000 + i,
    ...(failure && { failure }),
  };
}

test('records packed one by one as they are logged: each batch taken is the batch of its own records, values copied when logged', () => {
  const names = ['hour', 'origin'];
  const packer = new RecordPacker();
  const first = [record(1, names), record(2, names, { status: 400, code: 'INVALID_ARGUMENT' })];
  for (const r of first) packer.add(r);
  // The serving path may reuse or change its arrays once the record is logged: the batch keeps what was logged.
  const logged = structuredClone(first);
  first[0]!.rows.columns[0]![0] = 99;
  (first[0]!.outputs[0]!.data as number[])[1] = -1;
  const a = openBatch(packer.take());
  assert.equal(packer.count, 0);
  assert.deepEqual(unpackRecords(a), logged);
  assert.deepEqual(a, packRecords(logged));

  // The next batch starts empty: its own records, name lists and failures only (indexes from 0).
  const second = [record(3, ['distance']), record(4, names, { status: 500, code: 'INTERNAL' })];
  for (const r of second) packer.add(r);
  const b = openBatch(packer.take());
  assert.deepEqual(b, packRecords(second));
  assert.deepEqual(b.names, [['distance'], names]);
  assert.deepEqual(b.failures, [1, 500, 'INTERNAL']);
  assert.deepEqual(unpackRecords(b), second);
});

test('a batch is marked plain text (its JSON not searched for escapes to rewrite) only when no string in it holds a surrogate or a NUL', () => {
  const names = ['hour', 'origin'];
  assert.equal(packRecords([record(1, names), record(2, names, { status: 400, code: 'INVALID_ARGUMENT' })]).plainText, true);
  const withValue = (value: unknown) => ({ ...record(3, names), rows: { rowCount: 1, columns: [[1], [value]] } });
  const cases: [string, PredictionRecord][] = [
    ['a lone surrogate in a value', withValue('half\ud800')],
    ['a surrogate pair (an emoji) in a value', withValue('ok \ud83d\ude80')],
    ['a NUL in a value', withValue('nul\0')],
    ['a value kept aside', withValue({ nested: 1 })],
    ['a lone surrogate in an input name', record(4, ['hour', 'or\udc00igin'])],
    ['a NUL in a shared string (the model name)', { ...record(5, names), modelName: 'fl\0ights' }],
    ['a NUL in an error code', record(6, names, { status: 400, code: 'BAD\0' })],
  ];
  for (const [what, bad] of cases) assert.equal(packRecords([record(7, names), bad]).plainText, false, what);
});
