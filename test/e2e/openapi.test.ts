/**
 * `/openapi.json` of both servers, fetched over real sockets: a valid OpenAPI 3.1 document
 * (checked by @seriousme/openapi-schema-validator) that lists every route Fastify serves
 * (read from its route tree, as the fuzz test does), with the request schemas routes declare.
 * A route added without a `schema` is missing from the document, and fails here.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createHttpApp } from '../../src/http/app.js';
import { MODEL_SERVER_LIMITS } from '../../src/http/limits.js';
import { openApiPath } from '../../src/http/openapi.js';
import { feedbackPlugin } from '../../src/serve/routes/feedback.js';
import { batchAndBrowserPlugins } from '../../src/serve/server-plugins.js';
import { buildModelServer, type BuiltModelServer } from '../../src/serve/server.js';
import { DASHBOARD_VIEWS } from '../../src/server/routes/dashboard.js';
import { buildPlatformApp } from '../../src/server/server.js';
import type { Platform } from '../../src/platform/platform.js';
import { openTestPlatform } from '../support/databases.js';
import { makeTempDir } from '../support/flights.js';
import { routesOf } from '../support/routes.js';
import { buildServingModel, registerFlightsChampion } from '../support/serving-model.js';

type Document = { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema?: { properties?: Record<string, unknown> } }> }; parameters?: { name: string; in: string }[] }>> };

/** Dashboard pages are static files, hidden from the document on purpose. */
const PAGES = new Set(['/*', ...DASHBOARD_VIEWS.flatMap((view) => [`/${view}`, `/${view}/*`])]);

let db: Platform;
let model: BuiltModelServer;
let platform: FastifyInstance;
let home: string;
let removeHome: (() => Promise<void>) | undefined;

before(async () => {
  home = await makeTempDir((fn) => {
    removeHome = fn;
  });
  // One small model, enough for the server to start (one epoch over a month's sample).
  const fixture = await buildServingModel(home, { epochs: 1, every: 1000 });
  db = await openTestPlatform(home);
  await registerFlightsChampion(db.registry, fixture, 'openapi test');
  // Both apps with every route `loom serve` and `loom server` register.
  model = await buildModelServer({
    models: ['flights'],
    registry: db.registry,
    artifacts: fixture.artifacts,
    watchIntervalMs: 0,
    plugins: [
      ...batchAndBrowserPlugins({ metadata: db.metadata, artifacts: fixture.artifacts, defaultModel: 'flights' }),
      feedbackPlugin({ labels: db.labels, log: { kind: 'parquet', dir: join(home, 'predictions') } }),
    ],
  });
  const dashboard = join(home, 'dashboard');
  await mkdir(dashboard);
  await writeFile(join(dashboard, 'index.html'), '<!doctype html><title>Loom</title>');
  platform = await buildPlatformApp({ db, artifacts: db.artifacts, dashboardDir: dashboard });
  await model.app.listen({ port: 0, host: '127.0.0.1' });
  await platform.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await model?.close();
  await platform?.close();
  await db?.close();
  await removeHome?.();
});

async function fetchDocument(app: FastifyInstance): Promise<Document> {
  const address = app.server.address() as { port: number };
  const response = await fetch(`http://127.0.0.1:${address.port}/openapi.json`);
  assert.equal(response.status, 200);
  return (await response.json()) as Document;
}

/** Routes Fastify serves that the document does not list, as `METHOD /template`. */
async function undocumented(app: FastifyInstance, document: Document, hidden: ReadonlySet<string> = new Set()): Promise<string[]> {
  const missing: string[] = [];
  for (const route of await routesOf(app)) {
    if (hidden.has(route.url) || route.method === 'OPTIONS') continue;
    if (!document.paths[openApiPath(route.url).path]?.[route.method.toLowerCase()]) missing.push(`${route.method} ${route.url}`);
  }
  return missing;
}

async function assertValid(document: Document): Promise<void> {
  const result = await new Validator().validate(document as never);
  assert.deepEqual(result, { valid: true }, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));
  assert.match(document.openapi, /^3\.1\./);
}

test('loom server: a valid OpenAPI 3.1 document listing every route with its request schema', async () => {
  const document = await fetchDocument(platform);
  await assertValid(document);
  assert.deepEqual(await undocumented(platform, document, PAGES), []);
  const paths = Object.keys(document.paths);
  assert.ok(paths.filter((p) => p.startsWith('/api/2.0/mlflow/')).length >= 50, 'the MLflow REST routes are listed');
  // Request schemas are the routes' own zod schemas: a body's fields, a query's and a path's parameters.
  const logBatch = document.paths['/api/2.0/mlflow/runs/log-batch']!.post!.requestBody!.content['application/json']!.schema!;
  assert.deepEqual(Object.keys(logBatch.properties!).sort(), ['metrics', 'params', 'run_id', 'tags']);
  const lineage = document.paths['/api/loom/models/{name}/lineage']!.get!.parameters!.map((p) => `${p.in}:${p.name}`);
  assert.deepEqual(lineage.sort(), ['path:name', 'query:max_hops', 'query:version']);
  assert.ok(document.paths['/api/2.0/mlflow/logged-models/{model_id}']?.patch?.requestBody, 'MLflow 3 logged models are listed with their bodies');
});

test('loom serve: a valid document listing KServe V2, TF Serving, /invocations and /v1/feedback', async () => {
  const document = await fetchDocument(model.app);
  await assertValid(document);
  assert.deepEqual(await undocumented(model.app, document), []);
  const infer = document.paths['/v2/models/{name}/infer']!.post!.requestBody!.content;
  assert.ok(infer['application/json']!.schema!.properties!.inputs, 'the V2 envelope is documented');
  assert.ok(infer['application/octet-stream'], "Triton's binary tensor form is documented");
  for (const path of ['/v1/models/{path}', '/invocations', '/v1/feedback', '/metrics', '/v2/health/ready']) assert.ok(document.paths[path], path);
});

test('openapi.json needs no credentials, like the probes, on a server that authenticates', async (t) => {
  const app = await createHttpApp({
    limits: MODEL_SERVER_LIMITS,
    errorFormat: 'kserve',
    anonymousName: 'anonymous',
    security: { resolvePrincipal: async () => Promise.reject(new Error('no credentials were expected here')) },
  });
  t.after(() => app.close());
  assert.equal((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 200);
});

test('a route added without a schema is missing from the document, so the check above fails', async (t) => {
  const app = await createHttpApp({ limits: MODEL_SERVER_LIMITS, errorFormat: 'kserve', anonymousName: 'anonymous' });
  t.after(() => app.close());
  app.get('/with-schema/:id', { schema: { summary: 'declared', params: z.object({ id: z.string() }), querystring: z.object({ n: z.coerce.number() }) } }, async () => ({}));
  app.post('/without-schema', async () => ({}));
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Document;
  await assertValid(document);
  assert.deepEqual(await undocumented(app, document), ['POST /without-schema']);
  // And the declared schema is what the route validates with.
  const bad = await app.inject({ method: 'GET', url: '/with-schema/a?n=x' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error_code, 'INVALID_ARGUMENT');
});
