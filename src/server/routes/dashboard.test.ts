// Which URLs load without a token on a server with authentication on: the dashboard's files and
// view URLs (they hold no data), never the API (test/e2e/dashboard-monitoring.test.ts checks it
// over HTTP against a real `loom server --require-auth`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDashboardFile } from './dashboard.js';

test('the dashboard shell and its assets are public; the API and anything else are not', () => {
  for (const url of ['/', '/index.html', '/assets/index-BRadt4lv.js', '/monitoring', '/monitoring?model=flights&version=1', '/models/flights', '/experiments/1/runs/abc', '/deployments']) {
    assert.equal(isDashboardFile(url), true, url);
  }
  for (const url of ['/api/loom/deployments', '/api/2.0/mlflow/registered-models/search', '/assets/../api/loom/session', '/assets/a/b.js', '/modelsx', '/ajax-api/2.0/mlflow/runs/get', '/models/../api/loom/session', '/get-artifact']) {
    assert.equal(isDashboardFile(url), false, url);
  }
});
