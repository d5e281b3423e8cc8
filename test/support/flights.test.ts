import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTempDir, writeFlightsSlice } from './flights.js';

test('a flights slice keeps only the chosen months and every Nth row', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const rows = await writeFlightsSlice(join(dir, 'jan.parquet'), { months: [1], every: 100 });
  // January 2001 has 508,239 flights in the file.
  assert.ok(rows > 5000 && rows < 5100, `unexpected row count ${rows}`);
  const csvRows = await writeFlightsSlice(join(dir, 'jan.csv'), { months: [1], every: 100 });
  assert.equal(csvRows, rows);
});
