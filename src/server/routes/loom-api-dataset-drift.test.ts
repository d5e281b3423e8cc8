// GET /api/loom/datasets/:version/drift refusals through inject (the figures themselves are
// checked in a browser on real flights versions: test/e2e/dashboard-monitoring.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { platformApp } from '../../../test/support/platform-app.js';

test('drift between dataset versions refuses a missing or malformed baseline and an unknown version', async (t) => {
  const { server } = await platformApp(t);
  const missing = await server.inject('/api/loom/datasets/abcd/drift');
  assert.equal(missing.statusCode, 400);
  assert.match(missing.json().message, /against/);
  const malformed = await server.inject('/api/loom/datasets/abcd/drift?against=../x');
  assert.equal(malformed.statusCode, 400);
  const split = await server.inject('/api/loom/datasets/abcd/drift?against=abce&split=a%20b');
  assert.equal(split.statusCode, 400);
  const unknown = await server.inject('/api/loom/datasets/abcd/drift?against=abce');
  assert.equal(unknown.statusCode, 404);
});
