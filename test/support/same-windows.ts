/**
 * The check that windows read from the log files' profiles equal the windows scanned
 * (src/monitor/log-profiles*.test.ts): every figure the same.
 *
 * Usage: `assertSameWindows(profiled, scanned)`
 */
import assert from 'node:assert/strict';

/**
 * Every figure equal; means and standard deviations (sums in another order) to 1e-12
 * relative, and the PCA's mean error too (an average over the rows both ways, whose last
 * digits vary with how DuckDB's threads split them).
 */
export function assertSameWindows(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (/\.(std|mean)$|\.multivariate\./.test(path) && Number.isFinite(expected)) assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${path}: ${actual} vs ${expected}`);
    else assert.ok(Object.is(actual, expected), `${path}: ${actual} vs ${expected}`);
    return;
  }
  if (expected === null || typeof expected !== 'object') return assert.equal(actual, expected, path);
  assert.ok(actual !== null && typeof actual === 'object', path);
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), path);
  for (const key of Object.keys(expected)) assertSameWindows((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
}
