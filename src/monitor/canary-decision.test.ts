import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canaryPolicy, decideCanary, type QualityFigures, type SideQuality } from './canary-decision.js';

const figures = (auc: number | null): QualityFigures => ({ auc, accuracy: 0.8, precision: 0.5, recall: 0.4, f1: 0.44 });
const side = (version: number, rows: number, labelled: number, estimated: number | null, measured: number | null): SideQuality => ({
  version,
  rows,
  labelled,
  estimated: figures(estimated),
  measured: measured === null ? null : figures(measured),
});
const policy = canaryPolicy.parse({ minLabelled: 100, minRows: 100, tolerance: 0.01 });

test('a canary is judged on measured quality once both sides have enough labels', () => {
  const decision = decideCanary(side(1, 800, 500, 0.7, 0.62), side(2, 200, 150, 0.6, 0.66), policy);
  assert.equal(decision.outcome, 'promote');
  assert.equal(decision.basis, 'measured');
  assert.deepEqual([decision.primaryValue, decision.canaryValue], [0.62, 0.66]);
});

test('with too few labels on one side the estimated figures decide', () => {
  const decision = decideCanary(side(1, 800, 500, 0.7, 0.62), side(2, 200, 50, 0.6, 0.7), policy);
  assert.equal(decision.basis, 'estimated');
  assert.equal(decision.outcome, 'rollback', 'estimated 0.60 is worse than 0.70 by more than the tolerance');
  assert.match(decision.reason, /estimated auc: canary v2 0\.6000 vs primary v1 0\.7000/);
});

test('the tolerance lets a canary slightly worse than the primary through, and no more', () => {
  assert.equal(decideCanary(side(1, 800, 500, 0.7, 0.65), side(2, 200, 150, 0.7, 0.641), policy).outcome, 'promote');
  assert.equal(decideCanary(side(1, 800, 500, 0.7, 0.65), side(2, 200, 150, 0.7, 0.639), policy).outcome, 'rollback');
});

test('nothing is decided on too little canary traffic or on figures that could not be computed', () => {
  const few = decideCanary(side(1, 800, 500, 0.7, 0.62), side(2, 99, 99, 0.9, 0.9), policy);
  assert.equal(few.outcome, 'hold');
  assert.match(few.reason, /99 requests, fewer than the 100/);
  const missing = decideCanary(side(1, 800, 500, 0.7, 0.62), side(2, 200, 150, 0.7, null), { ...policy, minLabelled: 100 });
  assert.equal(missing.basis, 'estimated', 'a side without measured figures is compared on estimates');
  const noAuc = decideCanary(side(1, 800, 0, 0.7, null), side(2, 200, 0, null, null), policy);
  assert.equal(noAuc.outcome, 'hold');
  assert.equal(noAuc.canaryValue, null);
});

test('a policy with a bad field is refused naming it', () => {
  assert.throws(() => canaryPolicy.parse({ tolerance: 2 }), /tolerance/);
});
