// Shadow results over a real Parquet prediction log: when a client reuses a request id with the
// same features, each shadow row pairs with one served row only (the one logged nearest in
// time), and each served row with one shadow row of a shadow version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParquetPredictionSink } from '../serve/prediction-sinks.js';
import { makeTempDir } from '../../test/support/flights.js';
import { shadowResults } from './shadow-results.js';

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
