// Authentication of the model server over real HTTP, on both database backends (the token
// store is the project's database): no token is 401, a token whose per-model grants leave
// out `predict` is 403 on that model, a viewer's token predicts on every protocol, probes
// stay open, and a token revoked in the database is refused once the worker's cache period
// has passed (the cache's clock is moved, not waited for). An open loopback model server
// answers only to loopback Host names.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServerAuthentication } from '../../src/auth/server-authentication.js';
import type { AuthSettings } from '../../src/auth/settings.js';
import type { Platform } from '../../src/platform/platform.js';
import type { ModelSignature } from '../../src/registry/types.js';
import { batchAndBrowserPlugins } from '../../src/serve/server-plugins.js';
import { startModelServer, type ModelServer } from '../../src/serve/server.js';
import { openFreshPostgres, openFreshSqlite, postgresTestUrl } from '../support/databases.js';
import { makeTempDir } from '../support/flights.js';
import { buildServingModel, type ServingModelFixture } from '../support/serving-model.js';

let fixture: ServingModelFixture;
let signature: ModelSignature;
let removeDir: (() => Promise<void>) | undefined;
const ROW = { hour: 8, weekday: 2, distance: 500, origin: 'SFO', destination: 'LAX' };
const CACHE_MS = 30_000;

before(async () => {
  const dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  fixture = await buildServingModel(dir, { epochs: 1 });
  signature = JSON.parse(await readFile(join(fixture.servingModel.path, 'signature.json'), 'utf8')) as ModelSignature;
});
after(async () => removeDir?.());

interface Served {
  url: string;
  platform: Platform;
  /** Moves the token cache's clock forward. */
  advance(ms: number): void;
}

async function withModelServer(open: () => Promise<Platform>, settings: AuthSettings, body: (served: Served) => Promise<void>): Promise<void> {
  const platform = await open();
  let server: ModelServer | undefined;
  try {
    // Two models on one graph: grants name one and leave the other to the role's defaults.
    for (const name of ['flights', 'taxis']) {
      await platform.registry.ensureRegisteredModel(name);
      const version = await platform.registry.createModelVersion({ modelName: name, source: fixture.servingModel.uri, status: 'READY', signature });
      await platform.registry.setAlias(name, 'champion', version.version, { actor: 'test', reason: 'serve auth test' });
    }
    let now = Date.now();
    const { exposure, resolvePrincipal } = createServerAuthentication({ tokens: platform.tokens, settings, host: '127.0.0.1', tokenCache: { ttlMs: CACHE_MS, now: () => now } });
    server = await startModelServer({
      port: 0,
      host: '127.0.0.1',
      models: ['flights', 'taxis'],
      registry: platform.registry,
      artifacts: fixture.artifacts,
      watchIntervalMs: 0,
      security: { resolvePrincipal, allowedHosts: exposure.allowedHosts },
      plugins: batchAndBrowserPlugins({ metadata: platform.metadata, artifacts: fixture.artifacts, defaultModel: 'flights' }),
    });
    await body({ url: server.url, platform, advance: (ms) => (now += ms) });
  } finally {
    await server?.close();
    await platform.close();
  }
}

async function infer(url: string, model: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ instances: [ROW] }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function describeServeAuth(backend: string, open: () => Promise<Platform>): void {
  describe(`model server authentication: ${backend}`, () => {
    it('401 without a token, 403 for a grant without predict, 200 for a viewer on every protocol; probes stay open', () =>
      withModelServer(open, { required: true, insecureOpen: false }, async ({ url, platform }) => {
        const { secret: viewer } = await platform.tokens.createToken({ subject: 'app', role: 'viewer', createdBy: 'test' });
        const { secret: approver } = await platform.tokens.createToken({ subject: 'rev', role: 'viewer', grants: [{ model: 'flights', actions: ['alias.approve'] }], createdBy: 'test' });
        const { secret: scorer } = await platform.tokens.createToken({ subject: 'svc', role: 'viewer', grants: [{ model: 'flights', actions: ['predict'] }], createdBy: 'test' });

        const anonymous = await infer(url, 'flights');
        assert.equal(anonymous.status, 401);
        assert.equal(anonymous.body.error_code, 'UNAUTHENTICATED');
        assert.equal((await infer(url, 'flights', 'loom_pat_forged')).status, 401);
        assert.equal((await fetch(`${url}/v2/models/flights`)).status, 401, 'metadata needs a token too');

        const denied = await infer(url, 'flights', approver);
        assert.equal(denied.status, 403);
        assert.equal(denied.body.error_code, 'PERMISSION_DENIED');
        assert.equal((await infer(url, 'taxis', approver)).status, 200, 'a model the grants do not name keeps the role default');
        assert.equal((await infer(url, 'flights', scorer)).status, 200);

        const ok = await infer(url, 'flights', viewer);
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal((ok.body.predictions as unknown[]).length, 1);
        const tf = await fetch(`${url}/v1/models/flights:predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(viewer) }, body: JSON.stringify({ instances: [ROW] }) });
        assert.equal(tf.status, 200);
        const invocations = (token: string) =>
          fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-loom-model': 'flights', ...bearer(token) }, body: JSON.stringify({ dataframe_records: [ROW] }) });
        assert.equal((await invocations(viewer)).status, 200);
        const refused = await invocations(approver);
        assert.equal(refused.status, 403);
        assert.equal(((await refused.json()) as { error_code: string }).error_code, 'PERMISSION_DENIED');
        assert.equal((await fetch(`${url}/ui/models/flights/model.onnx`, { headers: bearer(approver) })).status, 403, 'the graph is the model: predict is needed');
        assert.equal((await fetch(`${url}/ui/models/flights/model.onnx`, { headers: bearer(scorer) })).status, 200);
        assert.equal((await fetch(`${url}/v1/predictions/flights/SFO`, { headers: bearer(approver) })).status, 403, 'precomputed predictions are predictions');
        assert.equal((await fetch(`${url}/v2/models/flights`, { headers: bearer(approver) })).status, 200, 'metadata is a read, which every role may');

        for (const probe of ['/v2/health/live', '/v2/health/ready', '/ping', '/health', '/metrics']) {
          assert.equal((await fetch(`${url}${probe}`)).status, 200, `${probe} needs no credentials`);
        }
      }));

    it('a revoked token keeps passing only until the cache period is over', () =>
      withModelServer(open, { required: true, insecureOpen: false }, async ({ url, platform, advance }) => {
        const { token, secret } = await platform.tokens.createToken({ subject: 'app', role: 'viewer', createdBy: 'test' });
        assert.equal((await infer(url, 'flights', secret)).status, 200);
        // Revoked in the database, as `loom token revoke` in another process does.
        await platform.tokens.revokeToken(token.id);
        advance(CACHE_MS - 1_000);
        assert.equal((await infer(url, 'flights', secret)).status, 200, 'still within the cache period');
        advance(1_001);
        const refused = await infer(url, 'flights', secret);
        assert.equal(refused.status, 401);
        assert.equal(refused.body.error_code, 'UNAUTHENTICATED');
        const { secret: fresh } = await platform.tokens.createToken({ subject: 'app', role: 'viewer', createdBy: 'test' });
        assert.equal((await infer(url, 'flights', fresh)).status, 200, 'a new token works at once: refusals are not cached');
      }));

    it('an open loopback server predicts without a token but answers only to loopback Host names', () =>
      withModelServer(open, { required: false, insecureOpen: false }, async ({ url }) => {
        assert.equal((await infer(url, 'flights')).status, 200);
        const rebound = await new Promise<number>((resolve, reject) => {
          const request = httpRequest(`${url}/v2/models/flights/infer`, { method: 'POST', headers: { host: 'evil.example:8080', 'content-type': 'application/json' } }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          });
          request.on('error', reject);
          request.end(JSON.stringify({ instances: [ROW] }));
        });
        assert.equal(rebound, 403);
      }));
  });
}

describeServeAuth('sqlite', openFreshSqlite);
const pgUrl = postgresTestUrl('model server authentication');
if (pgUrl) describeServeAuth('postgres', () => openFreshPostgres(pgUrl));
