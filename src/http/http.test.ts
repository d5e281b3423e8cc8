import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { createHttpApp } from './app.js';
import { useErrorFormat } from './error-handler.js';
import { jsonDepthExceeds } from './json-body.js';
import { MODEL_SERVER_LIMITS, resolveLimits } from './limits.js';
import { parseRequest } from './validation.js';

test('JSON depth is measured on brackets outside strings', () => {
  assert.equal(jsonDepthExceeds('[[[1]]]', 3), false);
  assert.equal(jsonDepthExceeds('[[[[1]]]]', 3), true);
  assert.equal(jsonDepthExceeds('{"a":{"b":{"c":{}}}}', 3), true);
  assert.equal(jsonDepthExceeds(`["${'['.repeat(50)}", "\\"[[[[[["]`, 3), false);
  // Not JSON at all, but too deep: refused all the same (the parser would refuse it anyway).
  assert.equal(jsonDepthExceeds('['.repeat(10_000_000), 64), true);
});

test('one error mapping, each protocol in its own words', async (t) => {
  const app = await createHttpApp({ limits: MODEL_SERVER_LIMITS, errorFormat: 'kserve', anonymousName: 'anonymous' });
  t.after(() => app.close());
  const invalid = () => {
    throw new LoomError('INVALID_ARGUMENT', 'bad things', { field: 'x', fix: 'do better' });
  };
  app.get('/kserve', invalid);
  app.get('/fault', () => {
    throw new Error('ENOENT: open /srv/secret/path');
  });
  app.get('/who', (request) => request.principal);
  app.post('/zod', (request) => parseRequest(z.object({ name: z.string().min(1) }), request.body));
  await app.register(async (scope) => {
    useErrorFormat(scope, 'mlflow');
    scope.get('/mlflow', invalid);
    scope.post('/mlflow-json', () => ({}));
  });
  await app.register(async (scope) => {
    useErrorFormat(scope, 'mlflow-scoring');
    scope.get('/scoring', invalid);
    scope.get('/scoring-busy', () => {
      throw new LoomError('UNAVAILABLE', 'busy', { fix: 'retry' });
    });
  });
  const get = async (url: string, init: { method?: 'GET' | 'POST'; payload?: string; headers?: Record<string, string> } = {}) => {
    const response = await app.inject({ method: init.method ?? 'GET', url, payload: init.payload, headers: init.headers });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };
  assert.deepEqual(await get('/kserve'), { status: 400, body: { error: 'bad things', error_code: 'INVALID_ARGUMENT', field: 'x', fix: 'do better' } });
  assert.deepEqual(await get('/mlflow'), { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'bad things', field: 'x', fix: 'do better' } });
  assert.deepEqual(await get('/scoring'), { status: 400, body: { error_code: 'BAD_REQUEST', message: 'bad things', field: 'x' } });
  // An overloaded scoring server is temporarily unavailable (MLflow's own code), not an internal error.
  assert.deepEqual(await get('/scoring-busy'), { status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' } });
  // Fastify's own failures: bad JSON is MALFORMED_REQUEST for MLflow clients; an unknown route is a 404.
  const badJson = await get('/mlflow-json', { method: 'POST', payload: '{', headers: { 'content-type': 'application/json' } });
  assert.deepEqual([badJson.status, badJson.body.error_code], [400, 'MALFORMED_REQUEST']);
  assert.deepEqual([(await get('/nowhere')).status, (await get('/nowhere')).body.error_code], [404, 'NOT_FOUND']);
  // A server fault says nothing of what it was.
  const fault = await get('/fault');
  assert.equal(fault.status, 500);
  assert.ok(!JSON.stringify(fault.body).includes('/srv/secret'), JSON.stringify(fault.body));
  // zod failures name the field; the principal comes from one resolver.
  const zod = await get('/zod', { method: 'POST', payload: '{"name":""}', headers: { 'content-type': 'application/json' } });
  assert.deepEqual([zod.status, zod.body.error_code, zod.body.field], [400, 'INVALID_ARGUMENT', 'name']);
  // With no authentication configured the server is open: the claimed name is recorded, with every right.
  assert.deepEqual((await get('/who', { headers: { 'x-loom-actor': '  ana ' } })).body, { subject: 'ana', role: 'admin', grants: [], source: 'open' });
  assert.deepEqual((await get('/who')).body, { subject: 'anonymous', role: 'admin', grants: [], source: 'open' });
});

test('limits are checked when a server is built', () => {
  assert.equal(resolveLimits(MODEL_SERVER_LIMITS, { uploadBytes: 5 }).uploadBytes, 5);
  assert.throws(() => resolveLimits(MODEL_SERVER_LIMITS, { requestTimeoutMs: -1 }), (error: LoomError) => error.code === 'INVALID_ARGUMENT' && error.field === 'requestTimeoutMs');
  assert.throws(() => resolveLimits(MODEL_SERVER_LIMITS, { headersTimeoutMs: 60_000 }), (error: LoomError) => error.field === 'headersTimeoutMs');
});
