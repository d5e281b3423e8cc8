import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createHttpApp } from './app.js';
import { PLATFORM_LIMITS } from './limits.js';
import { createLogger, scrubSecrets } from './request-log.js';

const TOKEN = `loom_pat_${'A1b2C3d4'.repeat(5)}xyz`;
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbmEifQ.c2lnbmF0dXJl';

function capture() {
  const lines: Record<string, unknown>[] = [];
  let text = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { destination, lines, text: () => text };
}

test('request lines are JSON with the request id the answer carries, and no token, cookie or password reaches them', async () => {
  const out = capture();
  const logger = createLogger({ level: 'info', destination: out.destination });
  const app = await createHttpApp({ limits: PLATFORM_LIMITS, errorFormat: 'mlflow', anonymousName: 'test', log: { logger, requests: true } });
  app.post('/fail', async (request) => {
    // What a careless caller might log, and an internal error quoting a connection string.
    request.log.info({ req: { headers: request.headers } }, `called with Authorization: Bearer ${TOKEN}`);
    throw new Error(`could not reach postgres://loom:s3cr3t-pw@db.internal:5432/loom (token ${TOKEN}, jwt ${JWT})`);
  });
  const answer = await app.inject({
    method: 'POST',
    url: `/fail?experiment=1&access_token=${TOKEN}&password=hunter2`,
    headers: { authorization: `Bearer ${TOKEN}`, cookie: 'session=abc123secret', 'x-request-id': 'trace-42' },
    payload: {},
  });
  assert.equal(answer.statusCode, 500);
  assert.equal(answer.headers['x-request-id'], 'trace-42');
  assert.doesNotMatch(answer.body, /s3cr3t|loom_pat_/, 'the client is told nothing of the fault');
  const notFound = await app.inject({ method: 'GET', url: '/nowhere' });
  assert.equal(notFound.statusCode, 404);
  assert.ok(notFound.headers['x-request-id'], 'a generated id on every answer');
  await app.close();

  for (const secret of [TOKEN, 'A1b2C3d4A1b2', 's3cr3t-pw', 'abc123secret', 'hunter2', JWT, 'c2lnbmF0dXJl']) {
    assert.ok(!out.text().includes(secret), `${secret} must not be logged:\n${out.text()}`);
  }
  const ofRequest = out.lines.filter((line) => line.requestId === 'trace-42');
  const messages = ofRequest.map((line) => line.msg);
  assert.ok(messages.includes('incoming request') && messages.includes('request completed') && messages.includes('request failed'), JSON.stringify(messages));
  const failure = ofRequest.find((line) => line.msg === 'request failed') as { err: { message: string } };
  assert.match(failure.err.message, /postgres:\/\/loom:\[redacted\]@db\.internal/, 'the fault is still there to diagnose');
  assert.ok(out.lines.some((line) => line.requestId === notFound.headers['x-request-id']));
});

test('an app built without a log writes nothing and still answers with request ids', async () => {
  const app = await createHttpApp({ limits: PLATFORM_LIMITS, errorFormat: 'mlflow', anonymousName: 'test' });
  app.get('/ok', async () => ({ ok: true }));
  const first = await app.inject({ method: 'GET', url: '/ok' });
  const second = await app.inject({ method: 'GET', url: '/ok', headers: { 'x-request-id': 'bad id\twith spaces' } });
  assert.ok(first.headers['x-request-id']);
  assert.ok(second.headers['x-request-id'] && second.headers['x-request-id'] !== first.headers['x-request-id']);
  assert.notEqual(second.headers['x-request-id'], 'bad id\twith spaces');
  await app.close();
});

test('scrubSecrets keeps what is not a secret', () => {
  assert.equal(scrubSecrets('GET /api/2.0/mlflow/runs/get?run_id=abc&key=loss'), 'GET /api/2.0/mlflow/runs/get?run_id=abc&key=loss');
  assert.equal(scrubSecrets('sqlite:/home/ana/.loom/loom.db'), 'sqlite:/home/ana/.loom/loom.db');
  assert.equal(scrubSecrets('https://user:pw@example.com/x?api_key=k1'), 'https://user:[redacted]@example.com/x?api_key=[redacted]');
});
