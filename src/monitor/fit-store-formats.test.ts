import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitCbpe } from './cbpe.js';
import { CBPE_FIT, RECONSTRUCTION_FIT, decodeFit, encodeFit } from './fit-store-formats.js';
import type { ReconstructionFit } from './multivariate.js';

const pca: ReconstructionFit = {
  columns: [
    { name: 'distance', mean: 812.3456789012345, std: 601.1 },
    { name: 'origin', mean: 0.0123, std: 0.004 },
  ],
  components: [[0.7071067811865476], [-0.7071067811865475]],
  lower: 0,
  upper: 1.2345678901234567,
  referenceErrors: [0.5, Number.NaN, 0.7],
};

test('the PCA and CBPE fits come back from their payloads as they were made', () => {
  assert.deepEqual(decodeFit(RECONSTRUCTION_FIT, encodeFit(RECONSTRUCTION_FIT, pca)), { ok: true, fit: pca });
  assert.deepEqual(decodeFit(RECONSTRUCTION_FIT, encodeFit(RECONSTRUCTION_FIT, null)), { ok: true, fit: null });
  const scores = Float64Array.from({ length: 400 }, (_, i) => ((i * 37) % 400) / 400);
  const labels = Float64Array.from(scores, (s, i) => (s > 0.6 || i % 7 === 0 ? 1 : 0));
  for (const calibration of ['always', 'never'] as const) {
    const estimator = fitCbpe(scores, labels, { threshold: 0.4, calibration });
    assert.equal(estimator.calibration !== undefined, calibration === 'always');
    // An absent calibration comes back as no key rather than a key holding undefined: the same to `estimateQuality`.
    const { calibration: map, ...rest } = estimator;
    assert.deepEqual(decodeFit(CBPE_FIT, encodeFit(CBPE_FIT, estimator)), { ok: true, fit: map ? estimator : rest });
  }
});

test('a payload of the right format but an impossible fit is refused, naming what is wrong', () => {
  const refused = (text: string) => {
    const decoded = decodeFit(RECONSTRUCTION_FIT, text);
    assert.equal(decoded.ok, false, text);
    return decoded.ok ? '' : decoded.reason;
  };
  assert.match(refused(encodeFit(RECONSTRUCTION_FIT, { ...pca, components: [[0.7]] })), /components must be one row of equal length per column/);
  assert.match(refused(encodeFit(RECONSTRUCTION_FIT, { ...pca, components: [[0.7], [0.1, 0.2]] })), /components/);
  assert.match(refused(JSON.stringify({ format: RECONSTRUCTION_FIT.format, fit: { ...pca, lower: 'low' } })), /fit\.lower/);
  assert.match(refused(JSON.stringify({ format: RECONSTRUCTION_FIT.format + 1, fit: pca })), /format/);
  const cbpe = decodeFit(CBPE_FIT, JSON.stringify({ format: 1, fit: { threshold: 0.5, referenceRows: 3, calibration: { scores: [0.1, 0.2], probabilities: [0.3] } } }));
  assert.ok(!cbpe.ok && /scores and probabilities must be as many/.test(cbpe.reason));
});
