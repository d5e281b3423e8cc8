/**
 * Fairness figures equal Fairlearn's (MetricFrame by group, and the disparity functions)
 * to 1e-9 on the real 1985 CPS wages: a Loom-trained logistic regression predicting a
 * wage above the median, audited by gender, by race, and by both.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluationConfig } from '../../src/evaluate/config.js';
import { analyzeModel } from '../../src/evaluate/evaluator.js';
import { runPythonJson, testPython } from '../support/python.js';
import { aboveMedianWage, logisticScores, readCpsWages } from './cps-wages.js';

const SCRIPT = new URL('../python/fairlearn_metrics.py', import.meta.url).pathname;

interface Reference {
  by_group: Record<string, Record<string, number | null>>;
  overall: Record<string, number | null>;
  disparities: Record<string, number | null>;
}

test('per-group rates and disparities equal Fairlearn on the CPS wages by gender, race and both (1e-9)', async (t) => {
  const python = testPython();
  if (!python) return t.skip('LOOM_TEST_PYTHON is not set');
  const workers = await readCpsWages();
  const labels = aboveMedianWage(workers);
  const scores = logisticScores(workers, labels);
  const config = evaluationConfig.parse({
    fairness: [{ features: ['gender'] }, { features: ['race'] }, { features: ['gender', 'race'] }],
    bootstrap: { resamples: 0 },
  });
  const analysis = analyzeModel({
    config,
    candidate: { task: 'binary', scores, labels: Float64Array.from(labels) },
    features: { gender: workers.map((w) => w.gender), race: workers.map((w) => w.race) },
  });
  const decisions = Array.from(scores, (s) => (s >= 0.5 ? 1 : 0));
  const reference = runPythonJson<Record<string, Reference>>(
    python,
    SCRIPT,
    [],
    JSON.stringify({
      labels: Array.from(labels),
      decisions,
      sensitive: { gender: workers.map((w) => w.gender), race: workers.map((w) => w.race) },
      cases: [['gender'], ['race'], ['gender', 'race']],
    }),
  );
  const close = (actual: number, expected: number | null | undefined, what: string) => {
    if (expected === null || expected === undefined) return assert.ok(!Number.isFinite(actual), `${what}: Fairlearn has none, Loom ${actual}`);
    assert.ok(Math.abs(actual - expected) <= 1e-9, `${what}: Loom ${actual}, Fairlearn ${expected}`);
  };
  assert.equal(analysis.fairness.length, 3);
  let compared = 0;
  for (const result of analysis.fairness) {
    const expected = reference[result.name]!;
    assert.ok(expected, `Fairlearn has ${result.name}`);
    assert.deepEqual(Object.keys(result.report.byGroup).sort(), Object.keys(expected.by_group).sort(), `${result.name} groups`);
    for (const [group, rates] of Object.entries(result.report.byGroup)) {
      for (const [metric, value] of Object.entries(rates)) {
        close(value, expected.by_group[group]![metric], `${result.name} ${group} ${metric}`);
        compared++;
      }
    }
    for (const [metric, value] of Object.entries(result.report.disparities)) {
      close(value, expected.disparities[metric], `${result.name} ${metric}`);
      compared++;
    }
    for (const [metric, value] of Object.entries(result.report.overall)) close(value, expected.overall[metric], `${result.name} overall ${metric}`);
  }
  assert.ok(compared > 60, `compared ${compared} figures`);
  // The audit is not vacuous: this model's decisions do differ by gender.
  assert.ok(analysis.fairness[0]!.report.disparities.demographic_parity_difference > 0.05);
});
