import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { test } from 'node:test';
import { openFreshKysely } from '../../../test/support/databases.js';
import { LoomError } from '../../core/errors.js';
import { KyselyMonitorHistory, type DriftHistoryRow } from '../history-store.js';
import type { MonitorTables } from '../history-tables.js';
import { decideAlert } from './evaluate.js';
import { historyPoints } from './points.js';
import { parseAlertRules } from './rules.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2001, 3, 1);

function figure(hour: number, measure: string, value: number): Omit<DriftHistoryRow, 'recordedAt'> {
  return { model: 'flights', version: 1, windowKind: 'hourly', start: T0 + hour * HOUR, end: T0 + (hour + 1) * HOUR, rows: 500, against: 'prediction', feature: 'probability', measure, value, threshold: 0.1, exceeded: false };
}

function rule(metric: string): ReturnType<typeof parseAlertRules>[number] {
  const yaml = `rules:\n  - name: shift\n    model: flights\n    metric: ${metric}\n    when: { pValueBelow: 0.01 }\n    actions: [{ type: log }]\n`;
  return parseAlertRules(yaml, 'loom-alerts.yaml')[0]!;
}

test('a pValueBelow rule reads the recorded p-value of a test, fires on it, and is refused on a distance', async () => {
  const fresh = await openFreshKysely();
  try {
    const history = new KyselyMonitorHistory(fresh.db as Kysely<MonitorTables>);
    await history.recordDrift([figure(0, 'ks', 0.2), figure(0, 'jensen_shannon', 0.01), figure(1, 'ks', 0.00035), figure(1, 'jensen_shannon', 0.02)]);

    const ks = rule('drift.prediction.probability.ks');
    const points = await historyPoints(history, ks);
    assert.deepEqual(points.map((p) => p.pValue), [0.2, 0.00035]);
    const decision = decideAlert(ks, points, undefined);
    assert.equal(decision.fire, true);

    const calm = await historyPoints(history, ks);
    assert.equal(decideAlert(ks, calm.slice(0, 1), undefined).fire, false);

    await assert.rejects(historyPoints(history, rule('drift.prediction.probability.jensen_shannon')), (error: unknown) => {
      assert.ok(error instanceof LoomError);
      assert.equal(error.field, 'when.pValueBelow');
      assert.match(error.message, /jensen_shannon, a distance with no p-value/);
      return true;
    });
  } finally {
    await fresh.close();
  }
});
