import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../core/random.js';
import { ascendingOrder, descendingOrder } from './binary-metrics.js';

/** The order a stable comparator sort gives: ascending, NaN last, −0 tied with 0, ties in row order. */
function comparatorOrder(scores: ArrayLike<number>, descending = false): number[] {
  const key = (x: number) => (Number.isNaN(x) ? Number.POSITIVE_INFINITY : descending ? -x : x);
  const nanLast = (x: number) => (Number.isNaN(x) ? 1 : 0);
  return Array.from(scores, (_, i) => i).sort((a, b) => nanLast(scores[a]!) - nanLast(scores[b]!) || key(scores[a]!) - key(scores[b]!) || a - b);
}

test('row order by score is a stable sort over every kind of double', () => {
  const specials = [0, -0, Number.NaN, Infinity, -Infinity, 1e-310, -1e-310, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1, 0.1, -0.1];
  const random = mulberry32(3);
  for (const rows of [0, 1, 2, 17, 5_000]) {
    const scores = Float64Array.from({ length: rows }, () => {
      const r = random();
      return r < 0.2 ? specials[Math.floor(random() * specials.length)]! : r < 0.6 ? Math.round((random() - 0.5) * 20) : (random() - 0.5) * 1e6;
    });
    assert.deepEqual([...ascendingOrder(scores)], comparatorOrder(scores), `${rows} rows, ascending`);
    assert.deepEqual([...descendingOrder(scores)].filter((i) => !Number.isNaN(scores[i]!)), comparatorOrder(scores, true).filter((i) => !Number.isNaN(scores[i]!)), `${rows} rows, descending`);
  }
});

test('rows of equal score keep their order, also when every score is the same', () => {
  assert.deepEqual([...ascendingOrder([0.5, 0.5, 0.5])], [0, 1, 2]);
  assert.deepEqual([...ascendingOrder([0, -0, 0, -0])], [0, 1, 2, 3]);
  assert.deepEqual([...ascendingOrder([2, 1, 2, 1])], [1, 3, 0, 2]);
});
