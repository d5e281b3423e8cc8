// Shadow results over a real Parquet prediction log: when a client reuses a request id with the
// same features, each shadow row pairs with one served row only (the one logged nearest in
// time), and each served row with one shadow row of a shadow version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParquetPredictionSink } from '../serve/prediction-sinks.js';
import { makeTempDir } from '../../test/support/flights.js';
import { SHADOW_PAIR_TOLERANCE_MS, shadowResults } from './shadow-results.js';

const T0 = Date.UTC(2026, 0, 5);

test('a reused request id pairs each shadow row with the served row logged nearest it, never one row twice', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const sink = new ParquetPredictionSink(dir);
  const answer = (requestId: string, version: number, role: 'primary' | 'canary' | 'shadow', label: number, loggedAt: number) =>
    ({ requestId, modelName: 'flights', modelVersion: version, role, protocol: 'v2', features: '{"distance":100}', outputs: JSON.stringify({ label }), latencyMs: 1, loggedAt });
  await sink.write([
    // Request r, sent twice with the same features: v1 answers the first, the canary v2 the
    // second, and the shadow v3 copies each, agreeing with both.
    answer('r', 3, 'shadow', 1, T0 + 1010),
    answer('r', 1, 'primary', 0, T0),
    answer('r', 2, 'canary', 1, T0 + 1000),
    answer('r', 3, 'shadow', 0, T0 + 10),
    // Request q, sent twice: v1 answers the first, the canary the second; only the second's shadow copy is logged.
    answer('q', 1, 'primary', 0, T0 + 2000),
    answer('q', 2, 'canary', 1, T0 + 3000),
    answer('q', 3, 'shadow', 1, T0 + 3005),
  ]);
  await sink.close();
  const { comparisons } = await shadowResults({ kind: 'parquet', dir }, { model: 'flights', window: 'daily' });
  assert.deepEqual(
    comparisons.map((c) => ({ served: `${c.servedRole} v${c.servedVersion}`, rows: c.rows, requests: c.requests, agreement: c.outputs.map((o) => o.values) })),
    [
      { served: 'primary v1', rows: [1], requests: [1], agreement: [[1]] },
      { served: 'canary v2', rows: [2], requests: [2], agreement: [[1]] },
    ],
  );
});

test('a request id reused every minute pairs one to one, each shadow row with the served answer of its own minute, and stays linear', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const sink = new ParquetPredictionSink(dir);
  // A probe sending one id with the same features every minute for two weeks: 20,160 answers and
  // as many shadow copies. Every candidate pair would be 406M rows; within the tolerance each
  // shadow row has two (its minute's answer and the next minute's), nearest first.
  const reuses = 14 * 24 * 60;
  const rows = [];
  for (let k = 0; k < reuses; k++) {
    // Labels alternate, so a shadow row paired with a neighbouring minute's answer disagrees.
    const answer = { requestId: 'probe', modelName: 'flights', protocol: 'v2', features: '{"distance":100}', outputs: JSON.stringify({ label: k % 2 }), latencyMs: 1 };
    rows.push({ ...answer, modelVersion: 1, role: 'primary' as const, loggedAt: T0 + k * 60_000 });
    rows.push({ ...answer, modelVersion: 3, role: 'shadow' as const, loggedAt: T0 + k * 60_000 + 5 });
  }
  // A shadow copy logged later than the tolerance after any answer of its request is not compared.
  rows.push({ requestId: 'late', modelName: 'flights', protocol: 'v2', features: '{"distance":100}', outputs: '{"label":1}', latencyMs: 1, modelVersion: 1, role: 'primary' as const, loggedAt: T0 });
  rows.push({ requestId: 'late', modelName: 'flights', protocol: 'v2', features: '{"distance":100}', outputs: '{"label":1}', latencyMs: 1, modelVersion: 3, role: 'shadow' as const, loggedAt: T0 + SHADOW_PAIR_TOLERANCE_MS + 1 });
  await sink.write(rows);
  await sink.close();
  const { comparisons } = await shadowResults({ kind: 'parquet', dir }, { model: 'flights', window: 'daily' });
  assert.equal(comparisons.length, 1);
  const [comparison] = comparisons;
  assert.deepEqual(comparison!.rows, Array.from({ length: 14 }, () => 24 * 60), 'every answer compared once, with one copy');
  assert.deepEqual(comparison!.outputs.map((o) => o.values), [Array.from({ length: 14 }, () => 1)], 'each with its own minute’s answer');
});
