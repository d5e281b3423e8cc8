// The real MLflow Python client authenticates to an authenticated `loom server` with
// MLFLOW_TRACKING_TOKEN (sent as a bearer token): refused without it or with a wrong one,
// and with it the registry change is recorded as the token's subject.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRequestSecurity } from '../../src/audit/request-security.js';
import { startPlatformServer } from '../../src/server/server.js';
import { openTestPlatform } from '../support/databases.js';
import { makeTempDir } from '../support/flights.js';
import { runMlflowClient, testPython } from '../support/python.js';

const SCRIPT = fileURLToPath(new URL('../python/mlflow_token_client.py', import.meta.url));
const python = testPython();

test('MLFLOW_TRACKING_TOKEN authenticates the MLflow client to loom server', { skip: python ? false : 'LOOM_TEST_PYTHON is not set' }, async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openTestPlatform(dir);
  const security = createRequestSecurity(platform, { required: true, insecureOpen: false }, '127.0.0.1', 'mlflow-api');
  const server = await startPlatformServer({ port: 0, host: '127.0.0.1', db: platform, artifacts: platform.artifacts, security });
  t.after(async () => {
    await server.close();
    await platform.close();
  });
  const { secret } = await platform.tokens.createToken({ subject: 'ci-bot', role: 'editor', createdBy: 'test' });

  const result = await runMlflowClient(python!, [SCRIPT, server.url, secret]);
  assert.equal(result.code, 0, `the MLflow client script failed:\n${result.stderr}`);
  const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.deepEqual(report, { without_token: 'UNAUTHENTICATED', wrong_token: 'UNAUTHENTICATED', champion: '1', metric: 0.75 });
  assert.equal((await platform.registry.aliasHistory('flights', 'champion'))[0]?.actor, 'ci-bot');
});
