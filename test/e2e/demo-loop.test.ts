import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runLoom } from '../support/cli.js';
import { makeTempDir, writeFlightsSlice } from '../support/flights.js';
import type { LoopSummary } from '../../src/cli/commands/demo-loop.js';

/**
 * The closed loop, compressed: a small real slice of the flights (every 20th flight of
 * January to May 2001), March and April replayed (the scores' shift from March to April is
 * what a KS test sees on 2,000 requests a window; far fewer do not show it), and May for the
 * canary. The outcome is the data's: whichever way the canary goes, it must be decided,
 * recorded and traced.
 */
test('loom demo --loop: drift fires an alert, the retraining run and the canary decision are recorded and traced', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const source = join(dir, 'flights.parquet');
  await writeFlightsSlice(source, { months: [1, 2, 3, 4, 5], every: 20 });

  const loop = await runLoom(['demo', '--loop', '--source', source, '--rows', ROWS, '--months', '3,4', '--json'], { cwd: dir });
  assert.equal(loop.code, 0, loop.stderr);
  const summary = JSON.parse(loop.stdout) as LoopSummary;

  // Monitoring: every replayed month was monitored; the estimate came before its labels, the measurement after.
  assert.ok(summary.batches.length >= 2);
  assert.equal(summary.batches[0]!.labelsFor, null);
  assert.ok(summary.batches[0]!.estimatedAuc! > 0.5, 'CBPE estimates AUC before any label');
  assert.equal(summary.batches[1]!.labelsFor, summary.batches[0]!.month);
  assert.ok(summary.batches[1]!.measuredAuc! > 0.5, 'measured once the labels arrived');

  // The alert fired on the drift it saw, and its retraining ran.
  const alert = summary.alerts.find((a) => a.actions?.some((x) => x.type === 'retrain'));
  assert.ok(alert, `an alert with a retraining fired: ${JSON.stringify(summary.alerts)}`);
  assert.ok(summary.batches.at(-1)!.drifted.length > 0, 'the month it fired on drifted');
  assert.equal(alert.actions!.find((x) => x.type === 'retrain')?.status, 'done');
  assert.ok(summary.retrain, 'the retraining run is in the summary');
  assert.equal(summary.retrain.evalMonth, alert.month);


  // The canary stage: deployed, judged on its online quality, and the outcome recorded.
  assert.ok(summary.retrain.version, `the retrained model was blessed and pushed as candidate: ${summary.retrain.reason}`);
  const canary = summary.canary!;
  assert.ok(['promote', 'rollback'].includes(canary.decision.outcome), canary.decision.reason);
  assert.ok(canary.canaryRows > 0 && canary.primaryRows > canary.canaryRows, 'the canary took the smaller share of the traffic');
  assert.equal(summary.finalChampion, canary.decision.outcome === 'promote' ? canary.version : summary.champion.version);

  // Lineage links them: the candidate traces back to the alert that caused its run, and holds the canary decision.
  const lineage = JSON.parse((await runLoom(['lineage', `flights@${canary.version}`, '--json'], { cwd: dir })).stdout) as {
    decisions: { executionId: number; component: string; relation: string; outcome: Record<string, unknown> }[];
  };
  const trigger = lineage.decisions.find((d) => d.relation === 'triggered the run that made it');
  assert.equal(trigger?.component, 'alert');
  assert.equal(trigger.outcome.rule, alert.rule);
  const decision = lineage.decisions.find((d) => d.component === 'canary-decision');
  assert.equal(decision?.executionId, canary.executionId);
  assert.equal(decision.outcome.outcome, canary.decision.outcome);
  assert.equal(decision.outcome.canaryVersion, canary.version);

  const status = await runLoom(['monitor', 'status', 'flights@champion', '--window', `requests:${ROWS}`, '--json'], { cwd: dir });
  assert.equal(status.code, 0, status.stderr);
  assert.ok((JSON.parse(status.stdout) as { rows: number }).rows > 0);
});

const ROWS = '2000';
