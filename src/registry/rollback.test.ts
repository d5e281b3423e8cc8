import assert from 'node:assert/strict';
import { test } from 'node:test';
import { holderStack, rollbackTarget, type RecordedMove } from './rollback.js';

const set = (version: number): RecordedMove => ({ version, kind: 'set' });
const back = (version: number): RecordedMove => ({ version, kind: 'rollback' });
const all = () => true;

test('rollback goes to the previous holder, then further back', () => {
  assert.deepEqual(rollbackTarget([set(1), set(2), set(3)], all), { version: 2, skipped: [] });
  assert.deepEqual(rollbackTarget([set(1), set(2), set(3), back(2)], all), { version: 1, skipped: [] });
  assert.equal(rollbackTarget([set(1), set(2), back(1)], all), undefined);
  assert.equal(rollbackTarget([], all), undefined);
});

test('unusable holders are passed over, and a later rollback continues below them', () => {
  const moves = [set(1), set(2), set(3), set(4)];
  assert.deepEqual(rollbackTarget(moves, (v) => v !== 3), { version: 2, skipped: [3] });
  assert.deepEqual(holderStack([...moves, back(2)]), [1, 2]);
});

test('a removed alias comes back to its last holder; re-setting the same version is not a holder change', () => {
  assert.deepEqual(rollbackTarget([set(1), set(2), { version: null, kind: 'delete' }], all), { version: 2, skipped: [] });
  assert.deepEqual(rollbackTarget([set(1), set(2), set(2)], all), { version: 1, skipped: [] });
});
