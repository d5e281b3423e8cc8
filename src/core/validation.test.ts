import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { LoomError } from './errors.js';
import { parseInput } from './validation.js';

const schema = z.object({ epochs: z.number().int().min(1), slices: z.array(z.object({ feature: z.string() })).default([]) }).strict();

const thrown = (run: () => unknown): LoomError => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof LoomError, String(error));
    return error;
  }
  assert.fail('no error');
};

test('one error names every problem, the misspelt key first with the key meant, its field, and the fix', () => {
  const error = thrown(() => parseInput(schema, { epoch: 3, slices: [{ feature: 1 }] }, { what: 'train', fix: 'see `loom components train`' }));
  assert.equal(error.code, 'INVALID_ARGUMENT');
  assert.equal(error.field, 'epoch');
  assert.match(error.message, /^train: epoch: Unrecognized key: "epoch" \(did you mean `epochs`\?\); /);
  assert.match(error.message, /epochs: .*; slices\[0\]\.feature: /);
  assert.equal(error.fix, 'see `loom components train`');
  assert.deepEqual(parseInput(schema, { epochs: 2 }, { what: 'train' }), { epochs: 2, slices: [] });
});

test('an adapter names fields as its user wrote them, and chooses the code', () => {
  const flag = (path: readonly PropertyKey[]) => `--${String(path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const options = thrown(() => parseInput(z.object({ batchSize: z.number().min(1) }), { batchSize: 0 }, { what: '', name: flag }));
  assert.equal(options.field, '--batch-size');
  assert.match(options.message, /^--batch-size: /);
  const step = thrown(() => parseInput(schema, { epochs: 0 }, { what: 'step "train"', name: (path) => `parameter ${String(path[0])}`, field: (path) => `train.parameters.${String(path[0])}` }));
  assert.equal(step.field, 'train.parameters.epochs');
  assert.match(step.message, /^step "train": parameter epochs: /);
  const stored = thrown(() => parseInput(schema, {}, { what: 'manifest.json', code: 'FAILED_PRECONDITION', retryable: false }));
  assert.deepEqual([stored.code, stored.retryable], ['FAILED_PRECONDITION', false]);
});
