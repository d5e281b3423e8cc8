// `loom serve` and `loom server` started as a user starts them, with the project's
// loom.config.json: what they say about their exposure at start, the refusal to run open
// off loopback (and the forced, warned-about exception), CORS only for the configured
// origins, and per-token rate limits answered 429 with Retry-After in each protocol's shape.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ModelSignature } from '../../src/registry/types.js';
import { runLoom } from '../support/cli.js';
import { openTestPlatform } from '../support/databases.js';
import { makeTempDir } from '../support/flights.js';
import { buildServingModel } from '../support/serving-model.js';
import { startLoom } from './support.js';

const ROW = { hour: 8, weekday: 2, distance: 500, origin: 'SFO', destination: 'LAX' };
const ALLOWED_ORIGIN = 'https://app.example.com';
let home: string;
let removeHome: (() => Promise<void>) | undefined;
let alice: string;
let bob: string;

before(async () => {
  home = await makeTempDir((fn) => {
    removeHome = fn;
  });
  const fixture = await buildServingModel(home, { epochs: 1 });
  const signature = JSON.parse(await readFile(join(fixture.servingModel.path, 'signature.json'), 'utf8')) as ModelSignature;
  const platform = await openTestPlatform(home);
  try {
    await platform.registry.ensureRegisteredModel('flights');
    const version = await platform.registry.createModelVersion({ modelName: 'flights', source: fixture.servingModel.uri, status: 'READY', signature });
    await platform.registry.setAlias('flights', 'champion', version.version, { actor: 'test', reason: 'access test' });
    alice = (await platform.tokens.createToken({ subject: 'alice', role: 'viewer', createdBy: 'test' })).secret;
    bob = (await platform.tokens.createToken({ subject: 'bob', role: 'viewer', createdBy: 'test' })).secret;
  } finally {
    await platform.close();
  }
  const http = { corsOrigins: [ALLOWED_ORIGIN], rateLimit: { serve: { max: 3, windowMs: 600_000 }, server: { max: 2, windowMs: 600_000 } } };
  await writeFile(join(home, 'loom.config.json'), JSON.stringify({ http }));
});
after(async () => removeHome?.());

const SERVE = ['serve', 'flights', '--workers', '1', '--port', '0', '--no-prediction-log'];

function infer(url: string, token?: string): Promise<Response> {
  return fetch(`${url}/v2/models/flights/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ instances: [ROW] }),
  });
}

test('loom serve --require-auth: tokens from the project, CORS for the configured origin only, a rate limit per token', async (t) => {
  const server = await startLoom([...SERVE, '--require-auth'], { home, t });
  assert.match(server.stderr(), /authentication required/);
  assert.equal((await infer(server.url)).status, 401);

  // A preflight carries no token and is answered before authentication, for the allowed origin only.
  const preflight = (origin: string) => fetch(`${server.url}/v2/models/flights/infer`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
  const allowed = await preflight(ALLOWED_ORIGIN);
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
  assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization/);
  assert.equal((await preflight('https://evil.example')).headers.get('access-control-allow-origin'), null);

  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${server.url}/v2/models/flights/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}`, origin: ALLOWED_ORIGIN },
      body: JSON.stringify({ instances: [ROW] }),
    });
    assert.equal(response.status, 200, `request ${i + 1} of 3`);
    assert.equal(response.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
  }
  const limited = await infer(server.url, alice);
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After in seconds');
  assert.equal(((await limited.json()) as { error_code: string }).error_code, 'RESOURCE_EXHAUSTED');
  assert.equal((await infer(server.url, bob)).status, 200, 'each token has its own budget');
  assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200, 'probes are never limited');
});

test('loom server: the same config gives CORS and a per-token limit answered in MLflow\'s shape', async (t) => {
  const server = await startLoom(['server', '--port', '0', '--require-auth'], { home, t });
  const search = (token: string, origin?: string) =>
    fetch(`${server.url}/api/2.0/mlflow/registered-models/search`, { headers: { authorization: `Bearer ${token}`, ...(origin && { origin }) } });
  const first = await search(alice, ALLOWED_ORIGIN);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
  assert.equal((await search(alice, 'https://evil.example')).headers.get('access-control-allow-origin'), null);
  const limited = await search(alice);
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal(((await limited.json()) as { error_code: string }).error_code, 'RESOURCE_EXHAUSTED');
  assert.equal((await search(bob)).status, 200);
});

test('loom serve says it is open on loopback, refuses other addresses without authentication, and warns when forced', async (t) => {
  const open = await startLoom(SERVE, { home, t });
  assert.match(open.stderr(), /open on loopback \(127\.0\.0\.1\) without authentication/);
  assert.equal((await infer(open.url)).status, 200);
  open.child.kill('SIGTERM');
  await open.exited;

  for (const workers of ['1', '2']) {
    const refused = await runLoom(['serve', 'flights', '--host', '0.0.0.0', '--port', '0', '--workers', workers], { cwd: home, env: { LOOM_HOME: home } });
    assert.notEqual(refused.code, 0, `--workers ${workers}`);
    assert.match(refused.stderr, /refusing to listen on 0\.0\.0\.0 without authentication/, `--workers ${workers}: ${refused.stderr}`);
  }

  const forced = await startLoom([...SERVE, '--host', '0.0.0.0', '--insecure-open'], { home, t });
  assert.match(forced.stderr(), /WARNING: open on 0\.0\.0\.0 WITHOUT AUTHENTICATION/);
});
