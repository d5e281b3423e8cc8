// POST /api/loom/pipeline-runs/:runId/rerun over a real SQLite project with authentication on:
// a real pipeline file (one small step) run once, then run again through the API. Only a
// principal allowed to write may, the change is in the audit log under that principal, and
// the new run runs the same file (its step is a cache hit). Refusals come with their codes.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRequestSecurity } from '../../audit/request-security.js';
import { readCodeVersion } from '../../pipeline/code-version.js';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import { runPipeline } from '../../pipeline/orchestrator.js';
import { startPipelineRun } from '../../pipeline/run-scope.js';
import { PipelineReruns } from '../../platform/rerun.js';
import { showPipelineRun } from '../../queries/pipeline-runs.js';
import { tuneComponent } from '../../train/tune-component.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { platformApp } from '../../../test/support/platform-app.js';
import { buildPlatformApp } from '../server.js';

const src = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../${path}`, import.meta.url)));

/** A pipeline of one step that writes a file: enough to be run, recorded and cached. */
const PIPELINE = `import { z } from ${JSON.stringify(import.meta.resolve('zod'))};
import { writeFile } from 'node:fs/promises';
import { artifactType } from ${src('pipeline/artifact-types.ts')};
import { defineComponent } from ${src('pipeline/component.ts')};
import { definePipeline } from ${src('pipeline/dsl.ts')};
const Note = artifactType({ name: 'RerunTestNote', description: 'a note', properties: {}, files: {} });
const write = defineComponent({
  name: 'write-note', version: '1', description: 'writes a note', inputs: {}, outputs: { note: Note }, parameters: z.object({}),
  async execute({ outputs }) { await writeFile(outputs.note + '/note.txt', 'hello'); return { properties: { note: {} } }; },
});
export default definePipeline('notes', (p) => { p.step('write', write, {}); });
`;

test('a pipeline run runs again as the principal who asked: editors may, viewers and strangers may not, and it is audited', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openTestPlatform(dir);
  const security = createRequestSecurity(platform, { required: true, insecureOpen: false }, '127.0.0.1');
  const reruns = new PipelineReruns(platform);
  const server = await buildPlatformApp({ db: platform, artifacts: platform.artifacts, security, reruns });
  t.after(async () => {
    await server.close();
    await reruns.drain();
    await platform.close();
  });
  const file = join(dir, 'pipeline.ts');
  await writeFile(file, PIPELINE);
  const first = await runPipeline(await loadPipelineFile(file), { runner: platform.runner, codeVersion: readCodeVersion(dir), pipelineFile: file });
  assert.equal(first.state, 'COMPLETE');
  const { secret: ed } = await platform.tokens.createToken({ subject: 'ed', role: 'editor', createdBy: 'test' });
  const { secret: vic } = await platform.tokens.createToken({ subject: 'vic', role: 'viewer', createdBy: 'test' });
  const rerun = (runId: string, token?: string) => server.inject({ method: 'POST', url: `/api/loom/pipeline-runs/${runId}/rerun`, headers: token ? { authorization: `Bearer ${token}` } : {} });

  assert.equal((await rerun(first.runId)).statusCode, 401, 'no token');
  const refused = await rerun(first.runId, vic);
  assert.equal(refused.statusCode, 403);
  assert.equal((refused.json() as { error_code: string }).error_code, 'PERMISSION_DENIED');
  assert.equal((await platform.audit.list()).items.length, 0, 'a refusal changes nothing');

  const accepted = await rerun(first.runId, ed);
  assert.equal(accepted.statusCode, 202, accepted.body);
  const { runId, rerunOf } = accepted.json() as { runId: string; rerunOf: string };
  assert.equal(rerunOf, first.runId);
  assert.notEqual(runId, first.runId);
  await reruns.drain();
  const again = await showPipelineRun(platform, runId);
  assert.equal(again.run.state, 'COMPLETE');
  assert.deepEqual(again.steps.map((s) => [s.step, s.state]), [['write', 'CACHED']], 'the same file and parameters: a cache hit');
  const { pipelineFile, rerunOf: recorded } = (await platform.metadata.findContext('pipeline_run', runId))!.properties;
  assert.deepEqual([pipelineFile, recorded], [file, first.runId], 'the new run records its file and what it re-ran');
  const [entry, ...others] = (await platform.audit.list()).items;
  assert.equal(others.length, 0);
  assert.deepEqual([entry!.action, entry!.actor, entry!.target], ['pipeline.rerun', 'ed', `pipeline run ${first.runId}`]);
  assert.deepEqual(entry!.after, { runId: first.runId, pipelineFile: file });

  const unknown = await rerun('notes-19700101-000000-000000', ed);
  assert.equal(unknown.statusCode, 404);
});

test('a run that kept no pipeline file, and a server that runs no pipelines, refuse with a fix', async (t) => {
  const { server, db } = await platformApp(t);
  const open = await server.inject({ method: 'POST', url: '/api/loom/pipeline-runs/any/rerun' });
  assert.equal(open.statusCode, 412);
  assert.match((open.json() as { message: string }).message, /does not run pipelines/);

  const reruns = new PipelineReruns(db);
  const dir = await makeTempDir((fn) => t.after(fn));
  await writeFile(join(dir, 'pipeline.ts'), PIPELINE);
  // Started without its file recorded, as `loom tune` starts runs.
  const run = await runPipeline(await loadPipelineFile(join(dir, 'pipeline.ts')), { runner: db.runner, codeVersion: readCodeVersion(dir) });
  await assert.rejects(reruns.source(run.runId), (error: { code: string; fix?: string }) => error.code === 'FAILED_PRECONDITION' && /loom run/.test(error.fix ?? ''));

  // A run of `loom tune` (a tune step, no file: its budget came from the command line) says so and how to run the study again.
  const tuned = await startPipelineRun(db.metadata, { pipelineName: 'study', codeVersion: readCodeVersion(dir) });
  const step = await db.metadata.createExecution({ typeName: tuneComponent.name, stepName: 'tune', parameters: {}, codeVersion: readCodeVersion(dir) });
  await db.metadata.addToContext(tuned.contextId, { executionIds: [step.id] });
  await assert.rejects(
    reruns.source(tuned.scope.runId),
    (error: { code: string; message: string; fix?: string }) => error.code === 'FAILED_PRECONDITION' && /started by `loom tune`/.test(error.message) && /loom tune <pipeline file> --trials/.test(error.fix ?? ''),
  );
});
