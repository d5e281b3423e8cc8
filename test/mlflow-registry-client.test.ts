// The real MLflow client (mlflow-skinny) against a real Loom server on a socket: registered
// models, versions, aliases, tags, search with LIKE and pages, and the refusals (alias to a
// missing version, deleting an aliased version). The Python script asserts what the client
// sees; this test checks the store agrees, including who moved the aliases.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openTestPlatform } from './support/databases.js';
import { startPlatformServer } from '../src/server/server.js';
import { LocalArtifactStore } from '../src/store/local-artifact-store.js';
import { makeTempDir } from './support/flights.js';
import { runMlflowClient, testPython } from './support/python.js';

const SCRIPT = fileURLToPath(new URL('./python/mlflow_registry_client.py', import.meta.url));

const python = testPython();

test('the MLflow Python client manages models, versions and aliases in a Loom registry', { skip: python ? false : 'LOOM_TEST_PYTHON is not set' }, async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(dir);
  const server = await startPlatformServer({ port: 0, db, artifacts: new LocalArtifactStore(join(dir, 'artifacts')) });
  t.after(async () => {
    await server.close();
    await db.close();
  });

  const result = await runMlflowClient(python!, [SCRIPT, server.url]);
  assert.equal(result.code, 0, `the MLflow client script failed:\n${result.stderr}`);
  const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.deepEqual(report, {
    missing_version: 'RESOURCE_DOES_NOT_EXIST',
    aliased_delete: 'INVALID_STATE',
    alias_gone: 'RESOURCE_DOES_NOT_EXIST',
    version_gone: 'RESOURCE_DOES_NOT_EXIST',
    models: ['flights', 'flights-eu'],
  });

  const model = await db.registry.getRegisteredModel('flights');
  assert.deepEqual(model?.aliases, { champion: 2 });
  assert.deepEqual(model?.tags, { owner: 'ana' });
  assert.equal((await db.registry.getModelVersion('flights', 2))?.runId, 'run-2');
  assert.equal(await db.registry.getModelVersion('flights', 1), undefined);
  const challenger = await db.registry.aliasHistory('flights', 'challenger');
  assert.deepEqual(challenger.map((m) => [m.kind, m.version, m.actor]), [['delete', null, 'mlflow-api'], ['set', 1, 'mlflow-api']]);
});
