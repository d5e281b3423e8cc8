import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXIT_CODE } from '../../core/errors.js';
import { runLoom } from '../../../test/support/cli.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { monitoredModelProject } from '../../../test/support/monitored-model.js';

const START = Date.UTC(2026, 0, 5);

test('loom monitor alerts check refreshes the history from the log, fires a breached rule once, and alerts ls shows it', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, START, [1, 3]);
  await project.db.close();
  // March against January training: distance drifts by some measure above 0; a bound no figure reaches never fires.
  await writeFile(
    join(dir, 'loom-alerts.yaml'),
    `rules:
  - name: distance-moved
    model: flights
    metric: drift.training.distance
    window: daily
    when: { above: 0 }
    actions: [{ type: log }]
  - name: never
    model: flights
    metric: drift.training.distance
    window: daily
    when: { above: 1000000 }
    actions: [{ type: log }]
`,
  );
  const check = await runLoom(['monitor', 'alerts', 'check', '--json'], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  const results = JSON.parse(check.stdout) as { rule: string; fired: boolean; summary: string; actions?: { type: string; status: string }[] }[];
  assert.deepEqual(results.map((r) => [r.rule, r.fired]), [['distance-moved', true], ['never', false]]);
  assert.deepEqual(results[0]!.actions, [{ type: 'log', status: 'done', detail: 'logged' }]);
  assert.match(results[0]!.summary, /flights v1: drift.training.distance > 0/);

  const again = await runLoom(['monitor', 'alerts', 'check', '--no-refresh', '--json'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match((JSON.parse(again.stdout) as { summary: string }[])[0]!.summary, /already fired/);

  const ls = await runLoom(['monitor', 'alerts', 'ls', '--json'], { cwd: dir });
  assert.equal(ls.code, 0, ls.stderr);
  const alerts = JSON.parse(ls.stdout) as { rule: string; modelVersion: number; metric: string }[];
  assert.deepEqual(alerts.map((a) => [a.rule, a.modelVersion, a.metric]), [['distance-moved', 1, 'drift.training.distance']]);

  await writeFile(join(dir, 'bad.yaml'), 'rules:\n  - name: x\n    model: flights\n    metric: accuracy\n    when: { above: 1 }\n    actions: [{ type: log }]\n');
  const bad = await runLoom(['monitor', 'alerts', 'check', '--rules', 'bad.yaml'], { cwd: dir });
  assert.equal(bad.code, EXIT_CODE.INVALID_ARGUMENT);
  assert.match(bad.stderr, /rules\[0\]\.metric/);
});
