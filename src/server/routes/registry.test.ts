// The registry API on MLflow's paths, through Fastify's inject over a real SQLite database
// (test/mlflow-registry-client.test.ts drives a real server with the real MLflow client).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { platformApp } from '../../../test/support/platform-app.js';

const app = platformApp;

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
async function call(server: FastifyInstance, method: Method, path: string, payload?: object, headers: Record<string, string> = {}) {
  const response = await server.inject({ method, url: `/api/2.0/mlflow/${path}`, headers, ...(payload ? { payload } : {}) });
  return { status: response.statusCode, body: response.json() as Record<string, any> };
}

test('registered models: create, get, update, rename, tags, search with LIKE and pages, delete', async (t) => {
  const { server } = await app(t);
  const created = await call(server, 'POST', 'registered-models/create', { name: 'flights', description: 'delays', tags: [{ key: 'team', value: 'ml' }] });
  assert.equal(created.status, 200);
  const model = created.body.registered_model;
  assert.deepEqual([model.name, model.description, model.tags, model.aliases, model.latest_versions], ['flights', 'delays', [{ key: 'team', value: 'ml' }], [], []]);
  assert.equal(typeof model.creation_timestamp, 'number');
  const again = await call(server, 'POST', 'registered-models/create', { name: 'flights' });
  assert.deepEqual([again.status, again.body.error_code], [409, 'RESOURCE_ALREADY_EXISTS']);

  const updated = await call(server, 'PATCH', 'registered-models/update', { name: 'flights', description: 'arrival delays' });
  assert.equal(updated.body.registered_model.description, 'arrival delays');
  assert.equal((await call(server, 'POST', 'registered-models/set-tag', { name: 'flights', key: 'owner', value: 'ana' })).status, 200);
  assert.equal((await call(server, 'DELETE', 'registered-models/delete-tag', { name: 'flights', key: 'team' })).status, 200);
  const got = await call(server, 'GET', 'registered-models/get?name=flights');
  assert.deepEqual(got.body.registered_model.tags, [{ key: 'owner', value: 'ana' }]);
  const missingTag = await call(server, 'DELETE', 'registered-models/delete-tag', { name: 'flights', key: 'team' });
  assert.deepEqual([missingTag.status, missingTag.body.error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);

  for (const name of ['Flights-eu', 'flights_us', 'taxi']) await call(server, 'POST', 'registered-models/create', { name });
  const like = await call(server, 'GET', `registered-models/search?filter=${encodeURIComponent("name LIKE 'fl%'")}`);
  assert.deepEqual(like.body.registered_models.map((m: any) => m.name), ['flights', 'flights_us']);
  const ilike = await call(server, 'GET', `registered-models/search?filter=${encodeURIComponent("name ILIKE 'fl%'")}&max_results=2`);
  assert.deepEqual(ilike.body.registered_models.map((m: any) => m.name), ['Flights-eu', 'flights']);
  const next = await call(server, 'GET', `registered-models/search?filter=${encodeURIComponent("name ILIKE 'fl%'")}&max_results=2&page_token=${ilike.body.next_page_token}`);
  assert.deepEqual(next.body.registered_models.map((m: any) => m.name), ['flights_us']);
  assert.equal(next.body.next_page_token, undefined);
  const badFilter = await call(server, 'GET', `registered-models/search?filter=${encodeURIComponent('creation_timestamp > 5')}`);
  assert.deepEqual([badFilter.status, badFilter.body.error_code, badFilter.body.field], [400, 'INVALID_PARAMETER_VALUE', 'filter']);

  const renamed = await call(server, 'POST', 'registered-models/rename', { name: 'taxi', new_name: 'cabs' });
  assert.equal(renamed.body.registered_model.name, 'cabs');
  assert.equal((await call(server, 'DELETE', 'registered-models/delete', { name: 'cabs' })).status, 200);
  assert.equal((await call(server, 'GET', 'registered-models/get?name=cabs')).status, 404);
  const noName = await call(server, 'POST', 'registered-models/create', {});
  assert.deepEqual([noName.status, noName.body.error_code, noName.body.field], [400, 'INVALID_PARAMETER_VALUE', 'name']);
});

test('model versions and aliases: create, get, alias set/get/delete, search, tags, archive through stages', async (t) => {
  const { server } = await app(t);
  await call(server, 'POST', 'registered-models/create', { name: 'flights' });
  const v1 = await call(server, 'POST', 'model-versions/create', { name: 'flights', source: 'loom-artifact://sha256/aa', run_id: 'r1', tags: [{ key: 'data', value: 'jan' }] });
  assert.equal(v1.status, 200);
  assert.deepEqual(
    [v1.body.model_version.version, v1.body.model_version.status, v1.body.model_version.current_stage, v1.body.model_version.run_id, v1.body.model_version.aliases],
    ['1', 'READY', 'None', 'r1', []],
  );
  await call(server, 'POST', 'model-versions/create', { name: 'flights', source: 'loom-artifact://sha256/bb', run_id: 'r2' });
  const ghost = await call(server, 'POST', 'model-versions/create', { name: 'ghost', source: 's' });
  assert.deepEqual([ghost.status, ghost.body.error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);

  const set = await call(server, 'POST', 'registered-models/alias', { name: 'flights', alias: 'champion', version: '2' }, { 'x-loom-actor': 'ana' });
  assert.equal(set.status, 200);
  const byAlias = await call(server, 'GET', 'registered-models/alias?name=flights&alias=champion');
  assert.deepEqual([byAlias.body.model_version.version, byAlias.body.model_version.aliases], ['2', ['champion']]);
  const model = (await call(server, 'GET', 'registered-models/get?name=flights')).body.registered_model;
  assert.deepEqual(model.aliases, [{ alias: 'champion', version: '2' }]);
  assert.deepEqual(model.latest_versions.map((v: any) => v.version), ['2']);

  const search = await call(server, 'GET', `model-versions/search?filter=${encodeURIComponent("name='flights' AND run_id='r1'")}`);
  assert.deepEqual(search.body.model_versions.map((v: any) => v.version), ['1']);
  const all = await call(server, 'GET', `model-versions/search?filter=${encodeURIComponent("name='flights'")}&max_results=1`);
  assert.deepEqual(all.body.model_versions.map((v: any) => v.version), ['2']);
  assert.ok(all.body.next_page_token);

  assert.equal((await call(server, 'POST', 'model-versions/set-tag', { name: 'flights', version: '1', key: 'ok', value: 'yes' })).status, 200);
  assert.equal((await call(server, 'DELETE', 'model-versions/delete-tag', { name: 'flights', version: '1', key: 'data' })).status, 200);
  const updated = await call(server, 'PATCH', 'model-versions/update', { name: 'flights', version: '1', description: 'first' });
  assert.deepEqual([updated.body.model_version.description, updated.body.model_version.tags], ['first', [{ key: 'ok', value: 'yes' }]]);

  const archived = await call(server, 'POST', 'model-versions/transition-stage', { name: 'flights', version: '1', stage: 'Archived', archive_existing_versions: false });
  assert.equal(archived.body.model_version.current_stage, 'Archived');
  const toArchived = await call(server, 'POST', 'registered-models/alias', { name: 'flights', alias: 'challenger', version: '1' });
  assert.deepEqual([toArchived.status, toArchived.body.error_code], [412, 'INVALID_STATE']);
  const production = await call(server, 'POST', 'model-versions/transition-stage', { name: 'flights', version: '2', stage: 'Production' });
  assert.deepEqual([production.status, production.body.field], [400, 'stage']);
  const latest = await call(server, 'POST', 'registered-models/get-latest-versions', { name: 'flights', stages: ['Archived'] });
  assert.deepEqual(latest.body.model_versions.map((v: any) => v.version), ['1']);

  assert.equal((await call(server, 'DELETE', 'registered-models/alias', { name: 'flights', alias: 'champion' })).status, 200);
  assert.equal((await call(server, 'GET', 'registered-models/alias?name=flights&alias=champion')).status, 404);
  assert.equal((await call(server, 'GET', 'model-versions/get-download-uri?name=flights&version=2')).body.artifact_uri, 'loom-artifact://sha256/bb');
});

test('bad input: alias to a failed or missing version, deleting an aliased version, a protected alias; nothing changes', async (t) => {
  const { server, db } = await app(t);
  await call(server, 'POST', 'registered-models/create', { name: 'flights' });
  await call(server, 'POST', 'model-versions/create', { name: 'flights', source: 's1' });
  await db.registry.createModelVersion({ modelName: 'flights', source: 's2', status: 'FAILED_REGISTRATION' });
  await call(server, 'POST', 'registered-models/alias', { name: 'flights', alias: 'champion', version: '1' });

  const failed = await call(server, 'POST', 'registered-models/alias', { name: 'flights', alias: 'champion', version: '2' });
  assert.deepEqual([failed.status, failed.body.error_code, failed.body.field], [412, 'INVALID_STATE', 'version']);
  const missing = await call(server, 'POST', 'registered-models/alias', { name: 'flights', alias: 'champion', version: '9' });
  assert.deepEqual([missing.status, missing.body.error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);
  const badVersion = await call(server, 'POST', 'registered-models/alias', { name: 'flights', alias: 'champion', version: 'two' });
  assert.deepEqual([badVersion.status, badVersion.body.field], [400, 'version']);
  const aliased = await call(server, 'DELETE', 'model-versions/delete', { name: 'flights', version: '1' });
  assert.deepEqual([aliased.status, aliased.body.error_code], [412, 'INVALID_STATE']);
  assert.match(aliased.body.message, /@champion/);
  assert.ok(aliased.body.fix);

  await db.registry.setApprovalRule('flights', ['champion']);
  await call(server, 'POST', 'model-versions/create', { name: 'flights', source: 's3' });
  const protectedMove = await call(server, 'POST', 'registered-models/alias', { name: 'flights', alias: 'champion', version: '3' });
  assert.deepEqual([protectedMove.status, protectedMove.body.error_code], [412, 'INVALID_STATE']);

  // Nothing changed: champion still on 1, one recorded move, version 1 still there.
  assert.equal((await db.registry.getVersionByAlias('flights', 'champion'))?.version, 1);
  assert.equal((await db.registry.aliasHistory('flights', 'champion')).length, 1);
  assert.equal((await call(server, 'GET', 'model-versions/get?name=flights&version=1')).status, 200);
  // An unaliased version is deleted.
  assert.equal((await call(server, 'DELETE', 'model-versions/delete', { name: 'flights', version: '3' })).status, 200);
  assert.equal((await call(server, 'GET', 'model-versions/get?name=flights&version=3')).status, 404);
});

test('unknown models and versions are 404 on every write (the store reports them), and searches carry each model\'s latest versions and aliases', async (t) => {
  const { server, db } = await app(t);
  const writes: [Method, string, object][] = [
    ['POST', 'registered-models/rename', { name: 'ghost', new_name: 'spirit' }],
    ['PATCH', 'registered-models/update', { name: 'ghost', description: 'x' }],
    ['DELETE', 'registered-models/delete', { name: 'ghost' }],
    ['POST', 'registered-models/set-tag', { name: 'ghost', key: 'k', value: 'v' }],
    ['DELETE', 'registered-models/delete-tag', { name: 'ghost', key: 'k' }],
    ['POST', 'model-versions/create', { name: 'ghost', source: 's' }],
  ];
  for (const [method, path, body] of writes) {
    const answer = await call(server, method, path, body);
    assert.deepEqual([path, answer.status, answer.body.error_code, answer.body.field], [path, 404, 'RESOURCE_DOES_NOT_EXIST', 'name']);
  }
  await call(server, 'POST', 'registered-models/create', { name: 'flights' });
  const noVersion = await call(server, 'PATCH', 'model-versions/update', { name: 'flights', version: '4', description: 'x' });
  assert.deepEqual([noVersion.status, noVersion.body.error_code, noVersion.body.field], [404, 'RESOURCE_DOES_NOT_EXIST', 'version']);
  assert.equal((await db.registry.listRegisteredModels({})).items.length, 1, 'nothing was created by the refused writes');

  for (const source of ['a', 'b', 'c']) await call(server, 'POST', 'model-versions/create', { name: 'flights', source });
  await call(server, 'POST', 'registered-models/create', { name: 'taxi' });
  await call(server, 'POST', 'model-versions/create', { name: 'taxi', source: 't' });
  await call(server, 'POST', 'registered-models/create', { name: 'unused' });
  await call(server, 'POST', 'model-versions/transition-stage', { name: 'flights', version: '3', stage: 'Archived' });
  await call(server, 'POST', 'registered-models/alias', { name: 'taxi', alias: 'champion', version: '1' });
  const models = (await call(server, 'GET', 'registered-models/search')).body.registered_models as any[];
  assert.deepEqual(
    models.map((m) => [m.name, m.latest_versions.map((v: any) => `${v.version} ${v.current_stage}`)]),
    [['flights', ['3 Archived', '2 None']], ['taxi', ['1 None']], ['unused', []]],
  );
  const versions = (await call(server, 'GET', 'model-versions/search')).body.model_versions as any[];
  assert.deepEqual(versions.map((v) => [v.name, v.version, v.aliases]), [['taxi', '1', ['champion']], ['flights', '3', []], ['flights', '2', []], ['flights', '1', []]]);
});
