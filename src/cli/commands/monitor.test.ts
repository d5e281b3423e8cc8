import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT_CODE } from '../../core/errors.js';
import { driftRows, monitorVersion } from '../../monitor/monitor.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { runCompiledLoom } from '../../../test/support/cli.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { monitoredModelProject } from '../../../test/support/monitored-model.js';

const START = Date.UTC(2026, 0, 5);

test('loom monitor drift --json prints the figures monitoring computes; status and windows for people; bad options refused', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, START, [1, 3]);
  let expected;
  try {
    const report = await monitorVersion(
      { metadata: project.db.metadata, registry: project.db.registry, artifacts: project.db.artifacts, location: predictionLogLocation(project.db.config) },
      { model: 'flights', version: 1, window: { kind: 'daily' } },
    );
    expected = driftRows(report);
    assert.equal(report.windows.length, 2);
    assert.equal(report.trainingRows, true, 'lineage led to the training rows');
    // Distances in March against January training: compared on the schema's comparator.
    assert.ok(expected.some((r) => r.against === 'training' && r.feature === 'distance'));
    assert.ok(expected.some((r) => r.against === 'previous' && r.window === 1));
    assert.ok(!expected.some((r) => r.feature === 'delayed'), 'the label is not served, so not monitored');
  } finally {
    await project.db.close();
  }

  const drift = await runCompiledLoom(['monitor', 'drift', 'flights@champion', '--json'], { cwd: dir });
  assert.equal(drift.code, 0, drift.stderr);
  assert.equal(drift.stderr, '', 'quiet with --json');
  assert.deepEqual(JSON.parse(drift.stdout).drift, expected);
  // The figures were kept in the history, queryable by time range.
  const reopened = await openTestPlatform(project.home);
  try {
    const kept = await reopened.monitorHistory.driftHistory({ model: 'flights', from: START + 86_400_000 });
    assert.deepEqual(kept.map((r) => [r.feature, r.against, r.measure, r.value]), expected!.filter((r) => r.window === 1).map((r) => [r.feature, r.against, r.measure, r.value]));
  } finally {
    await reopened.close();
  }

  const status = await runCompiledLoom(['monitor', 'status', 'flights@1'], { cwd: dir });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /flights version 1: \d+ logged predictions in 2 windows/);
  assert.match(status.stdout, /multivariate \(PCA reconstruction error\)/);

  const windows = await runCompiledLoom(['monitor', 'windows', 'flights', '--window', 'requests:100', '--json'], { cwd: dir });
  assert.equal(windows.code, 0, windows.stderr);
  const parsed = JSON.parse(windows.stdout);
  assert.ok(parsed.windows.length > 2 && parsed.windows.every((w: { rows: number }) => w.rows <= 100));
  assert.ok(parsed.windows[0].features.some((f: { name: string; mean?: number }) => f.name === 'distance' && typeof f.mean === 'number'));

  const badWindow = await runCompiledLoom(['monitor', 'drift', 'flights', '--window', 'weekly'], { cwd: dir });
  assert.equal(badWindow.code, EXIT_CODE.INVALID_ARGUMENT);
  assert.match(badWindow.stderr, /hourly, daily or requests:N/);
  const unknown = await runCompiledLoom(['monitor', 'status', 'nope@1'], { cwd: dir });
  assert.equal(unknown.code, EXIT_CODE.NOT_FOUND);
  assert.doesNotMatch(unknown.stderr, /at .*\.ts:\d+/, 'no stack trace');
});
