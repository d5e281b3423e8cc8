import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { onlineQuality, qualityHistoryRows } from '../../monitor/quality-run.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { runCompiledLoom } from '../../../test/support/cli.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { evaluateMonitoredModel, monitoredModelProject } from '../../../test/support/monitored-model.js';

const START = Date.UTC(2026, 0, 5);

test('loom monitor labels load, then loom monitor quality --json prints the figures onlineQuality computes', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, START, [1, 3]);
  try {
    await evaluateMonitoredModel(project);
  } finally {
    await project.db.close();
  }
  // Labels for the first day's first 40 requests, from a CSV.
  const csv = join(dir, 'labels.csv');
  await writeFile(csv, `request_id,late\n${Array.from({ length: 40 }, (_, i) => `d0-${i},${i % 3 === 0 ? 1 : 0}`).join('\n')}\n`);
  const load = await runCompiledLoom(['monitor', 'labels', 'load', 'flights', csv, '--label', 'late', '--json'], { cwd: dir });
  assert.equal(load.code, 0, load.stderr);
  assert.deepEqual(JSON.parse(load.stdout), { rows: 40, written: 40, unmatched: 0 });

  const quality = await runCompiledLoom(['monitor', 'quality', 'flights@champion', '--json'], { cwd: dir });
  assert.equal(quality.code, 0, quality.stderr);
  const printed = JSON.parse(quality.stdout);
  assert.deepEqual(printed.windows.map((w: { labelled: number }) => w.labelled), [40, 0]);
  const db = await openTestPlatform(project.home);
  try {
    const expected = await onlineQuality(db, predictionLogLocation(db.config), { ref: 'flights@champion', window: { kind: 'daily' } });
    assert.deepEqual(printed, JSON.parse(JSON.stringify(expected)));
    // What it printed is kept in the monitoring history: estimated for both days, measured for the labelled one.
    const kept = await db.monitorHistory.qualityHistory({ model: 'flights' });
    assert.deepEqual(kept.map(({ recordedAt, ...row }) => row), qualityHistoryRows(expected, { kind: 'daily' }));
    assert.deepEqual(kept.map((r) => `${r.labelled}:${r.kind}`).filter((k, i, all) => all.indexOf(k) === i), ['40:estimated', '40:measured', '0:estimated']);
  } finally {
    await db.close();
  }
  const text = await runCompiledLoom(['monitor', 'quality', 'flights@1', '--window', 'requests:100'], { cwd: dir });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /flights version 1: estimated from scores/);
  assert.match(text.stdout, /auc est\/meas\/offline/);
  const bad = await runCompiledLoom(['monitor', 'labels', 'load', 'flights'], { cwd: dir });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /a file or --sql/);
});
