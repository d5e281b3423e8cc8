/**
 * The contract every MonitorHistoryStore backend passes. A backend's test file calls
 * `describeMonitorHistoryContract('sqlite', makeStore)`; `makeStore` gives each test an empty store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DriftHistoryRow, MonitorHistoryStore, QualityHistoryRow } from './history-store.js';

export type MakeMonitorHistory = () => Promise<{ history: MonitorHistoryStore; close(): Promise<void> }>;

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

function figure(hour: number, feature: string, value: number | null, extra: Partial<DriftHistoryRow> = {}): Omit<DriftHistoryRow, 'recordedAt'> {
  return { model: 'flights', version: 1, windowKind: 'hourly', start: T0 + hour * HOUR, end: T0 + (hour + 1) * HOUR - 1, rows: 100 + hour, against: 'training', feature, measure: 'jensen_shannon', value, threshold: 0.1, exceeded: value !== null && value > 0.1, ...extra };
}

function quality(hour: number, kind: QualityHistoryRow['kind'], metric: string, value: number | null, extra: Partial<QualityHistoryRow> = {}): Omit<QualityHistoryRow, 'recordedAt'> {
  return { model: 'flights', version: 1, windowKind: 'daily', start: T0 + hour * HOUR, end: T0 + (hour + 1) * HOUR - 1, rows: 200 + hour, labelled: kind === 'measured' ? 40 : 0, kind, metric, value, ...extra };
}

export function describeMonitorHistoryContract(name: string, makeStore: MakeMonitorHistory): void {
  const test = (title: string, body: (store: MonitorHistoryStore) => Promise<void>) =>
    it(title, async () => {
      const { history, close } = await makeStore();
      try {
        await body(history);
      } finally {
        await close();
      }
    });

  describe(`MonitorHistoryStore contract: ${name}`, () => {
    test('figures come back as recorded, by time range, oldest window first', async (store) => {
      const rows = [figure(0, 'distance', 0.05), figure(0, 'origin', null), figure(1, 'distance', 0.1234567890123), figure(2, 'distance', 0.3, { version: 2 })];
      await store.recordDrift(rows, 42);
      assert.deepEqual(await store.driftHistory({ model: 'flights' }), rows.map((r) => ({ ...r, recordedAt: 42 })));
      assert.deepEqual((await store.driftHistory({ model: 'flights', from: T0 + HOUR, to: T0 + 2 * HOUR })).map((r) => r.value), [0.1234567890123]);
      assert.deepEqual((await store.driftHistory({ model: 'flights', version: 2 })).map((r) => r.feature), ['distance']);
      assert.deepEqual(await store.driftHistory({ model: 'other' }), []);
    });

    test('recording a window again replaces its figures; other windows and kinds stay', async (store) => {
      await store.recordDrift([figure(0, 'distance', 0.05), figure(0, 'origin', 0.02), figure(1, 'distance', 0.07), figure(0, 'distance', 0.5, { windowKind: 'daily' })], 1);
      await store.recordDrift([figure(0, 'distance', 0.06)], 2);
      const hourly = (await store.driftHistory({ model: 'flights' })).filter((r) => r.windowKind === 'hourly');
      assert.deepEqual(hourly.map((r) => [r.start - T0, r.feature, r.value, r.recordedAt]), [
        [0, 'distance', 0.06, 2],
        [HOUR, 'distance', 0.07, 1],
      ]);
      assert.equal((await store.driftHistory({ model: 'flights' })).filter((r) => r.windowKind === 'daily').length, 1);
    });

    test('quality figures come back as recorded, by time range; a window recorded again is replaced', async (store) => {
      const rows = [quality(0, 'estimated', 'auc', 0.712345678901), quality(0, 'measured', 'auc', null), quality(1, 'estimated', 'f1', 0.4), quality(2, 'measured', 'accuracy', 0.8, { version: 2 })];
      await store.recordQuality(rows, 7);
      assert.deepEqual(await store.qualityHistory({ model: 'flights' }), rows.map((r) => ({ ...r, recordedAt: 7 })));
      assert.deepEqual((await store.qualityHistory({ model: 'flights', from: T0 + HOUR, to: T0 + 2 * HOUR })).map((r) => r.metric), ['f1']);
      assert.deepEqual((await store.qualityHistory({ model: 'flights', version: 2 })).map((r) => r.value), [0.8]);
      await store.recordDrift([figure(0, 'distance', 0.05, { windowKind: 'daily' })], 1);
      await store.recordQuality([quality(0, 'estimated', 'auc', 0.6, { labelled: 55 })], 8);
      assert.deepEqual((await store.qualityHistory({ model: 'flights' })).map((r) => [r.start - T0, r.kind, r.metric, r.value, r.labelled, r.recordedAt]), [
        [0, 'estimated', 'auc', 0.6, 55, 8],
        [HOUR, 'estimated', 'f1', 0.4, 0, 7],
        [2 * HOUR, 'measured', 'accuracy', 0.8, 40, 7],
      ]);
      // Quality and drift are kept apart: a window's quality recorded again leaves its drift.
      assert.deepEqual((await store.driftHistory({ model: 'flights' })).map((r) => r.value), [0.05]);
    });
  });
}
