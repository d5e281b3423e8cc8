import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSecretName, redactSecrets, redactUrl } from './redact.js';

test('a URL loses its password and secret query parameters, and nothing else', () => {
  assert.equal(redactUrl('postgres://me:pw@db:5432/prod?table=scores'), 'postgres://me:***@db:5432/prod?table=scores');
  assert.equal(redactUrl('postgresql://me@db/prod?table=s&password=pw'), 'postgresql://me@db/prod?table=s&password=***');
  assert.equal(redactUrl('https://host/data.csv?X-Amz-Security-Token=abc&part=1'), 'https://host/data.csv?X-Amz-Security-Token=***&part=1');
  // Unchanged text keeps its exact spelling.
  assert.equal(redactUrl('postgres://me@db:5432/prod?table=public.scores'), 'postgres://me@db:5432/prod?table=public.scores');
  assert.equal(redactUrl('/data/flights-{SPAN}.parquet'), '/data/flights-{SPAN}.parquet');
  assert.equal(redactUrl('hour(date)'), 'hour(date)');
  // Not a valid URL (a space in the host), still no password.
  assert.equal(redactUrl('postgres://me:p w@d b/x'), 'postgres://me:***@d b/x');
});

test('secret names are told from harmless ones', () => {
  for (const name of ['password', 'PGPASSWORD', 'db_password', 'apiKey', 'api-key', 'accessToken', 'clientSecret', 'credentials', 'privateKey']) assert.ok(isSecretName(name), name);
  for (const name of ['tokenizer', 'maxTokens', 'key', 'keys', 'keyColumns', 'author', 'passes', 'table', 'source']) assert.ok(!isSecretName(name), name);
});

test('redactSecrets walks objects and arrays, and leaves empty secrets alone', () => {
  const input = {
    source: { kind: 'postgres', url: 'postgres://loom:s3cret@db/warehouse', table: 'flights' },
    auth: { token: 'abc', password: '', note: null },
    urls: ['https://u:p@h/x', 'plain'],
    epochs: 5,
  };
  assert.deepEqual(redactSecrets(input), {
    source: { kind: 'postgres', url: 'postgres://loom:***@db/warehouse', table: 'flights' },
    auth: { token: '***', password: '', note: null },
    urls: ['https://u:***@h/x', 'plain'],
    epochs: 5,
  });
  assert.equal(input.source.url, 'postgres://loom:s3cret@db/warehouse', 'the input is not changed');
});
