// Re-runs in a process of their own (what `loom server` uses), over a real SQLite project and
// a real pipeline file in a folder with no package.json (loaded through require: the case that
// held up the server's event loop when it ran there). The run is recorded by the child, as the
// principal the parent authorized and audited; a file that no longer loads is refused with the
// child's error, and nothing is recorded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ChangeContext } from '../audit/record-change.js';
import type { Principal } from '../auth/types.js';
import { readCodeVersion } from '../pipeline/code-version.js';
import { loadPipelineFile } from '../pipeline/load-pipeline-file.js';
import { runPipeline } from '../pipeline/orchestrator.js';
import type { Platform } from '../platform/platform.js';
import { showPipelineRun } from '../queries/pipeline-runs.js';
import { openTestPlatform } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { RerunProcesses } from './rerun-processes.js';

const src = (path: string) => JSON.stringify(fileURLToPath(new URL(`../${path}`, import.meta.url)));

/** A pipeline of one step that writes a file (enough to be run, recorded and cached), and that notes the pid of each process that loads it in `loads`. */
const pipeline = (loads: string) => `import { z } from ${JSON.stringify(import.meta.resolve('zod'))};
import { appendFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { artifactType } from ${src('pipeline/artifact-types.ts')};
import { defineComponent } from ${src('pipeline/component.ts')};
import { definePipeline } from ${src('pipeline/dsl.ts')};
const Note = artifactType({ name: 'RerunProcessNote', description: 'a note', properties: {}, files: {} });
const write = defineComponent({
  name: 'write-note', version: '1', description: 'writes a note', inputs: {}, outputs: { note: Note }, parameters: z.object({}),
  async execute({ outputs }) { await writeFile(outputs.note + '/note.txt', 'hello'); return { properties: { note: {} } }; },
});
appendFileSync(${JSON.stringify(loads)}, process.pid + '\\n');
export default definePipeline('notes', (p) => { p.step('write', write, {}); });
`;

const context = (platform: Platform, subject: string, role: Principal['role']): ChangeContext => ({ principal: { subject, role, grants: [], source: 'token' }, address: '127.0.0.1', audit: platform.audit });

/** A project in a temporary folder with the pipeline run once, and re-runs whose processes open that project. */
async function project(t: { after(fn: () => Promise<void>): void }) {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openTestPlatform(dir);
  // The child is told the server's project: its own environment naming no project (or another one) changes nothing.
  const env: NodeJS.ProcessEnv = { ...process.env, LOOM_HOME: join(dir, 'not-this-project') };
  delete env.LOOM_DATABASE_URL;
  const reruns = new RerunProcesses(platform, () => {}, { cwd: dir, env });
  t.after(async () => {
    await reruns.drain();
    await platform.close();
  });
  const file = join(dir, 'pipeline.ts');
  const loads = join(dir, 'loaded-by.txt');
  await writeFile(file, pipeline(loads));
  const first = await runPipeline(await loadPipelineFile(file), { runner: platform.runner, codeVersion: readCodeVersion(dir), pipelineFile: file });
  assert.equal(first.state, 'COMPLETE');
  return { platform, reruns, file, first, loads };
}

test('a re-run runs in its own process as the principal who asked, audited by the server, recorded by the child', async (t) => {
  const { platform, reruns, file, first, loads } = await project(t);
  await assert.rejects(reruns.request(first.runId, context(platform, 'vic', 'viewer')), (error: { code: string }) => error.code === 'PERMISSION_DENIED');

  const { runId } = await reruns.request(first.runId, context(platform, 'ed', 'editor'));
  assert.notEqual(runId, first.runId);
  await reruns.drain();
  const again = await showPipelineRun(platform, runId);
  assert.equal(again.run.state, 'COMPLETE');
  assert.deepEqual(again.steps.map((s) => [s.step, s.state]), [['write', 'CACHED']], 'the same file and parameters: a cache hit');
  const recorded = (await platform.metadata.findContext('pipeline_run', runId))!.properties;
  assert.deepEqual([recorded.pipelineFile, recorded.rerunOf], [file, first.runId]);
  const [loader, child, ...more] = (await readFile(loads, 'utf8')).trim().split('\n').map(Number);
  assert.deepEqual([loader, more], [process.pid, []], 'loaded here for the first run');
  assert.ok(child !== process.pid && Number.isInteger(child), `loaded again by another process for the re-run, not by this one (${process.pid}): ${child}`);
  const entries = (await platform.audit.list()).items;
  assert.deepEqual(
    entries.map((e) => [e.action, e.actor, e.target]),
    [['pipeline.rerun', 'ed', `pipeline run ${first.runId}`]],
    'the viewer refused changes nothing; the editor is audited once',
  );
});

test('a pipeline file that no longer loads is refused with the child process error, and no run is recorded', async (t) => {
  const { platform, reruns, file, first } = await project(t);
  await writeFile(file, 'export default definePipeline(;\n');
  await assert.rejects(
    reruns.request(first.runId, context(platform, 'ed', 'editor')),
    (error: { code: string; message: string; fix?: string }) => error.code === 'INVALID_ARGUMENT' && error.message.includes(`pipeline file ${file} could not be loaded`) && error.fix !== undefined,
  );
  await reruns.drain();
  const runs = await platform.metadata.listContexts({ typeName: 'pipeline_run', pageSize: 10 });
  assert.deepEqual(
    runs.items.map((r) => r.name),
    [first.runId],
  );
});

test('a re-run whose process dies in a step is marked failed at once, naming the process', async (t) => {
  const { platform, reruns, file, first } = await project(t);
  // The step changed (a new version: no cache hit), and its process is killed while it runs it.
  const dying = (await readFile(file, 'utf8'))
    .replace("version: '1'", "version: '2'")
    .replace('async execute({ outputs }) {', "async execute({ outputs }) { process.kill(process.pid, 'SIGKILL');");
  await writeFile(file, dying);
  const { runId } = await reruns.request(first.runId, context(platform, 'ed', 'editor'));
  await reruns.drain();
  const run = await showPipelineRun(platform, runId);
  assert.equal(run.run.state, 'FAILED');
  const step = run.steps.find((s) => s.step === 'write');
  assert.equal(step?.state, 'FAILED');
  assert.match(step?.error ?? '', /exited without finishing/);
});

test('a re-run whose process cannot be started is refused, and the server does not wait for it', async (t) => {
  const { platform, first } = await project(t);
  const reruns = new RerunProcesses(platform, () => {}, { cwd: join(platform.config.home, 'no-such-folder') });
  await assert.rejects(reruns.request(first.runId, context(platform, 'ed', 'editor')), (error: { code: string; message: string }) => error.code === 'INTERNAL' && /could not start a process/.test(error.message));
  await reruns.drain();
});

test('a re-run whose steps leave something open (a timer) still ends its process when the run ends', async (t) => {
  const { platform, reruns, file, first } = await project(t);
  // Loaded in the child only: the first run was loaded before.
  await writeFile(file, `${await readFile(file, 'utf8')}setInterval(() => {}, 60_000);\n`);
  const { runId } = await reruns.request(first.runId, context(platform, 'ed', 'editor'));
  // A guard against a hang, not a measure: the process ends within seconds of its run.
  const drained = await Promise.race([reruns.drain().then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 120_000, false).unref())]);
  // Had it not, its process is ended here, so the failure is reported instead of the test file hanging on it.
  if (!drained) spawnSync('pkill', ['-P', String(process.pid), '-f', 'rerun-process']);
  assert.ok(drained, 'drain() returned: the re-run process ended');
  assert.equal((await showPipelineRun(platform, runId)).run.state, 'COMPLETE');
});

test('re-runs past the most one server runs at once are refused until one ends, and not audited', async (t) => {
  const { platform, first } = await project(t);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.LOOM_DATABASE_URL;
  const reruns = new RerunProcesses(platform, () => {}, { cwd: platform.config.home, env, maxRunning: 1 });
  t.after(() => reruns.drain());
  const going = reruns.request(first.runId, context(platform, 'ed', 'editor'));
  await assert.rejects(reruns.request(first.runId, context(platform, 'ed', 'editor')), (error: { code: string; fix?: string }) => error.code === 'UNAVAILABLE' && /loom runs rerun/.test(error.fix ?? ''));
  await going;
  await reruns.drain();
  await reruns.request(first.runId, context(platform, 'ed', 'editor'));
  await reruns.drain();
  assert.equal((await platform.audit.list()).items.length, 2, 'the refused one is not in the audit log');
});
