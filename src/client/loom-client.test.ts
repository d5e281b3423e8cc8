// LoomClient against a real `loom server` (a listening platform API that requires tokens) over
// a SQLite project: typed reads of the Loom API, a rollback recorded as the token's principal,
// and refusals raised as LoomErrors with the server's code, field and fix.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRequestSecurity } from '../audit/request-security.js';
import { isLoomError } from '../core/errors.js';
import type { Platform } from '../platform/platform.js';
import { startPlatformServer, type PlatformServer } from '../server/server.js';
import { openFreshSqlite } from '../../test/support/databases.js';
import { LoomClient, LoomClientError } from './index.js';

let platform: Platform;
let server: PlatformServer;
let editor: string;
let viewer: string;

before(async () => {
  platform = await openFreshSqlite();
  const security = createRequestSecurity(platform, { required: true, insecureOpen: false }, '127.0.0.1', 'mlflow-api');
  server = await startPlatformServer({ port: 0, host: '127.0.0.1', db: platform, artifacts: platform.artifacts, security });
  editor = (await platform.tokens.createToken({ subject: 'ana', role: 'editor', createdBy: 'test' })).secret;
  viewer = (await platform.tokens.createToken({ subject: 'vic', role: 'viewer', createdBy: 'test' })).secret;
  for (let i = 0; i < 3; i++) {
    await platform.metadata.putContext({ typeName: 'pipeline_run', name: `run-${i}`, properties: { pipeline: 'flights', state: i === 1 ? 'FAILED' : 'COMPLETE', startedAt: 1000 + i } });
  }
  await platform.registry.ensureRegisteredModel('flights');
  for (let v = 0; v < 2; v++) await platform.registry.createModelVersion({ modelName: 'flights', source: `file:///models/${v}`, status: 'READY' });
  await platform.registry.setAlias('flights', 'champion', 1, { actor: 'ana', reason: 'test' });
  await platform.registry.setAlias('flights', 'champion', 2, { actor: 'ana', reason: 'test' });
});
/** The error a call raised; fails when it succeeded or raised anything else. */
async function refusal(call: Promise<unknown>): Promise<LoomClientError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.ok(outcome instanceof LoomClientError && isLoomError(outcome), `expected a LoomClientError, got ${String(outcome)}`);
  return outcome;
}

after(async () => {
  await server?.close();
  await platform?.close();
});

test('typed reads of the Loom API, paged and filtered as the schemas say, with a bearer token', async () => {
  const loom = new LoomClient({ baseUrl: `${server.url}/`, token: viewer });
  const first = await loom.pipelineRuns({ max_results: 2 });
  assert.equal(first.runs.length, 2);
  assert.ok(first.next_page_token);
  const rest = await loom.pipelineRuns({ max_results: 2, page_token: first.next_page_token });
  assert.deepEqual([...first.runs, ...rest.runs].map((r) => r.runId).sort(), ['run-0', 'run-1', 'run-2']);
  assert.deepEqual((await loom.pipelineRuns({ state: 'FAILED' })).runs.map((r) => r.runId), ['run-1']);
  const history = await loom.aliasHistory('flights', 'champion');
  assert.deepEqual(history.moves.map((m) => m.version), [2, 1]);
  assert.deepEqual(await loom.deployments(), { deployments: [] });
  assert.deepEqual(await loom.datasetVersions(), { versions: [] });
  // Any route, MLflow's too, through `request`.
  const model = await loom.request<{ registered_model: { name: string } }>('GET', '/api/2.0/mlflow/registered-models/get', { query: { name: 'flights' } });
  assert.equal(model.registered_model.name, 'flights');
});

test("refusals are LoomErrors with the server's code, field and fix; a write is the token's principal's", async () => {
  const anonymous = new LoomClient({ baseUrl: server.url });
  const unauthenticated = await refusal(anonymous.pipelineRuns());
  assert.deepEqual([unauthenticated.code, unauthenticated.status], ['UNAUTHENTICATED', 401]);

  const reader = new LoomClient({ baseUrl: server.url, token: viewer });
  const invalid = await refusal(reader.pipelineRuns({ max_results: 0 }));
  assert.deepEqual([invalid.code, invalid.serverCode, invalid.field, invalid.status], ['INVALID_ARGUMENT', 'INVALID_PARAMETER_VALUE', 'max_results', 400]);
  const missing = await refusal(reader.pipelineRun('no-such-run'));
  assert.deepEqual([missing.code, missing.serverCode], ['NOT_FOUND', 'RESOURCE_DOES_NOT_EXIST']);
  assert.match(missing.fix ?? '', /loom runs/);
  assert.ok(missing.requestId, 'the request id to quote comes along');
  const forbidden = await refusal(reader.rollbackAlias('flights', 'champion'));
  assert.equal(forbidden.code, 'PERMISSION_DENIED');

  const writer = new LoomClient({ baseUrl: server.url, token: editor });
  const { move } = await writer.rollbackAlias('flights', 'champion');
  assert.deepEqual([move.version, move.kind, move.actor], [1, 'rollback', 'ana']);
});

test('no server: UNAVAILABLE with a fix, not a TypeError', async () => {
  const closed = await startPlatformServer({ port: 0, host: '127.0.0.1', db: platform, artifacts: platform.artifacts });
  const url = closed.url;
  await closed.close();
  const error = await refusal(new LoomClient({ baseUrl: url }).deployments());
  assert.deepEqual([error.code, error.status, error.retryable], ['UNAVAILABLE', 0, true]);
  assert.match(error.fix ?? '', /loom server/);
});

test("a step's log through the API: a viewer reads it in pages after a line; a missing run or step is NOT_FOUND naming it", async () => {
  const run = await platform.metadata.putContext({ typeName: 'pipeline_run', name: 'logged-run', properties: { pipeline: 'flights', state: 'RUNNING' } });
  const ingest = await platform.metadata.createExecution({ typeName: 'ingest', stepName: 'ingest', parameters: {}, codeVersion: { commit: null, dirty: false }, state: 'RUNNING' });
  await platform.metadata.addToContext(run.id, { executionIds: [ingest.id] });
  await platform.metadata.appendExecutionLog(ingest.id, [{ line: 'ingest: span 1' }, { line: 'ingest: 10 rows' }, { line: 'ingest: done' }]);

  const reader = new LoomClient({ baseUrl: server.url, token: viewer });
  const first = await reader.pipelineStepLog('logged-run', 'ingest', { max_lines: 2 });
  assert.deepEqual([first.executionId, first.state, first.more, first.dropped], [ingest.id, 'RUNNING', true, 0]);
  assert.deepEqual(first.lines.map((l) => [l.seq, l.line]), [[1, 'ingest: span 1'], [2, 'ingest: 10 rows']]);
  const rest = await reader.pipelineStepLog('logged-run', 'ingest', { after: first.lines.at(-1)!.seq });
  assert.deepEqual([rest.lines.map((l) => l.line), rest.more], [['ingest: done'], false]);

  const noStep = await refusal(reader.pipelineStepLog('logged-run', 'train'));
  assert.deepEqual([noStep.code, noStep.status], ['NOT_FOUND', 404]);
  assert.match(noStep.message, /pipeline run "logged-run" has no step "train"/);
  assert.match(noStep.fix ?? '', /its steps are ingest/);
  const noRun = await refusal(reader.pipelineStepLog('no-such-run', 'ingest'));
  assert.match(noRun.message, /no pipeline run "no-such-run"/);
  const invalid = await refusal(reader.pipelineStepLog('logged-run', 'ingest', { after: -1 }));
  assert.deepEqual([invalid.code, invalid.field, invalid.status], ['INVALID_ARGUMENT', 'after', 400]);
});
