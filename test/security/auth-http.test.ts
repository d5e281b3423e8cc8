// Authentication over real HTTP on the platform API, on both database backends: an
// unauthenticated alias move is refused (401), a viewer's is forbidden (403), an editor's
// is made and recorded in the audit log as that principal with the client's address.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { createRequestSecurity } from '../../src/audit/request-security.js';
import type { Platform } from '../../src/platform/platform.js';
import { startPlatformServer } from '../../src/server/server.js';
import { openFreshPostgres, openFreshSqlite, postgresTestUrl } from '../support/databases.js';

async function call(url: string, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function withServer(open: () => Promise<Platform>, required: boolean, body: (url: string, platform: Platform) => Promise<void>): Promise<void> {
  const platform = await open();
  try {
    const security = createRequestSecurity(platform, { required, insecureOpen: false }, '127.0.0.1', 'mlflow-api');
    const server = await startPlatformServer({ port: 0, host: '127.0.0.1', db: platform, artifacts: platform.artifacts, security });
    try {
      await body(server.url, platform);
    } finally {
      await server.close();
    }
  } finally {
    await platform.close();
  }
}

const ALIAS = '/api/2.0/mlflow/registered-models/alias';

function describeAuth(backend: string, open: () => Promise<Platform>): void {
  describe(`platform API authentication: ${backend}`, () => {
    it('refuses an unauthenticated alias move (401), forbids a viewer (403), records an editor\'s as that principal', () =>
      withServer(open, true, async (url, platform) => {
        await platform.registry.createRegisteredModel({ name: 'flights' });
        for (const source of ['s1', 's2']) await platform.registry.createModelVersion({ modelName: 'flights', source });
        const { secret: ana } = await platform.tokens.createToken({ subject: 'ana', role: 'editor', createdBy: 'test' });
        const { secret: vic } = await platform.tokens.createToken({ subject: 'vic', role: 'viewer', createdBy: 'test' });
        const move = { name: 'flights', alias: 'champion', version: '2' };

        const anonymous = await call(url, ALIAS, { body: move });
        assert.equal(anonymous.status, 401);
        assert.equal(anonymous.body.error_code, 'UNAUTHENTICATED');
        assert.equal((await call(url, ALIAS, { body: move, headers: { 'x-loom-actor': 'ceo@company' } })).status, 401);
        assert.equal((await call(url, ALIAS, { body: move, headers: { authorization: 'Bearer loom_pat_forged' } })).status, 401);
        assert.equal((await call(url, '/api/2.0/mlflow/registered-models/get?name=flights', { method: 'GET' })).status, 401, 'reads need credentials too');
        const viewer = await call(url, ALIAS, { body: move, headers: { authorization: `Bearer ${vic}` } });
        assert.equal(viewer.status, 403);
        assert.equal(viewer.body.error_code, 'PERMISSION_DENIED');
        assert.equal((await call(url, '/api/2.0/mlflow/registered-models/get?name=flights', { method: 'GET', headers: { authorization: `Bearer ${vic}` } })).status, 200);
        assert.equal(await platform.registry.getVersionByAlias('flights', 'champion'), undefined);

        const editor = await call(url, ALIAS, { body: move, headers: { authorization: `Bearer ${ana}`, 'x-loom-actor': 'ceo@company', 'x-request-id': 'move-champion-1' } });
        assert.equal(editor.status, 200, JSON.stringify(editor.body));
        assert.equal((await platform.registry.aliasHistory('flights', 'champion'))[0]?.actor, 'ana');
        const [entry] = (await platform.audit.list({ model: 'flights' })).items;
        assert.deepEqual([entry!.action, entry!.actor, entry!.address, entry!.target], ['alias.set', 'ana', '127.0.0.1 request move-champion-1', 'flights@champion']);

        // The MLflow client's username/password form carries the token as the password.
        const basic = Buffer.from(`ana:${ana}`).toString('base64');
        const unset = await call(url, ALIAS, { method: 'DELETE', body: { name: 'flights', alias: 'champion' }, headers: { authorization: `Basic ${basic}` } });
        assert.equal(unset.status, 200);
        assert.equal((await fetch(`${url}/health`)).status, 200, 'probes need no credentials');
        assert.equal((await platform.audit.verify()).ok, true);
      }));

    it('an open loopback server answers only to loopback Host names and records the claimed name', () =>
      withServer(open, false, async (url, platform) => {
        await platform.registry.createRegisteredModel({ name: 'm' });
        // fetch() will not send another Host header; a DNS-rebound browser would, as node:http does here.
        const rebound = await new Promise<number>((resolve, reject) => {
          const request = httpRequest(`${url}/api/2.0/mlflow/registered-models/create`, { method: 'POST', headers: { host: 'evil.example:5000', 'content-type': 'application/json' } }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          });
          request.on('error', reject);
          request.end(JSON.stringify({ name: 'x' }));
        });
        assert.equal(rebound, 403);
        assert.equal(await platform.registry.getRegisteredModel('x'), undefined);
        const made = await call(url, '/api/2.0/mlflow/registered-models/create', { body: { name: 'x' } });
        assert.equal(made.status, 200);
        assert.equal((await platform.audit.list()).items[0]?.actor, 'mlflow-api');
      }));
  });
}

describeAuth('sqlite', openFreshSqlite);
const url = postgresTestUrl('platform API authentication');
if (url) describeAuth('postgres', () => openFreshPostgres(url));
