import assert from 'node:assert/strict';
import test from 'node:test';
import { downsampleMinMax } from './metric-history.js';

test('downsampleMinMax keeps each index once, in order, with both ends and the extremes, at every small size', () => {
  for (let n = 2; n <= 12; n++) {
    // A zig-zag with its extremes inside, and a NaN that must never be picked as one.
    const values = Array.from({ length: n }, (_, i) => (i === 1 ? Number.NaN : ((i * 7) % 5) - (i === n - 2 ? 10 : 0)));
    for (let maxPoints = 1; maxPoints <= n + 1; maxPoints++) {
      const kept = downsampleMinMax(values, maxPoints);
      const label = `n=${n} maxPoints=${maxPoints}: ${JSON.stringify(kept)}`;
      assert.equal(kept[0], 0, label);
      assert.equal(kept[kept.length - 1], n - 1, label);
      for (let i = 1; i < kept.length; i++) assert.ok(kept[i]! > kept[i - 1]!, `not strictly ascending, ${label}`);
      assert.ok(kept.length <= Math.max(4, maxPoints), label);
      const finite = values.map((v, i) => [v, i] as const).filter(([v]) => Number.isFinite(v));
      const lowest = finite.reduce((a, b) => (b[0] < a[0] ? b : a))[1];
      assert.ok(kept.includes(lowest), `the lowest value's index ${lowest} is missing, ${label}`);
    }
  }
});
