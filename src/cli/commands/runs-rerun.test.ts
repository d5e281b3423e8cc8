// `loom runs rerun <run-id>` as a user runs it: real child processes over a real project, a
// real pipeline file (one small step) run once (in this process, as `loom run` runs it: each
// command costs seconds of start-up), then again by the command. A viewer is refused, an
// editor's re-run runs the same file to its end (a cache hit) and is in the audit log.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EXIT_CODE } from '../../core/errors.js';
import { readCodeVersion } from '../../pipeline/code-version.js';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import { runPipeline } from '../../pipeline/orchestrator.js';
import { runLoom } from '../../../test/support/cli.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';

const src = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../${path}`, import.meta.url)));

/** A pipeline of one step that writes a file: enough to be run, recorded and cached. */
const PIPELINE = `import { z } from ${JSON.stringify(import.meta.resolve('zod'))};
import { writeFile } from 'node:fs/promises';
import { artifactType } from ${src('pipeline/artifact-types.ts')};
import { defineComponent } from ${src('pipeline/component.ts')};
import { definePipeline } from ${src('pipeline/dsl.ts')};
const Note = artifactType({ name: 'RerunCliNote', description: 'a note', properties: {}, files: {} });
const write = defineComponent({
  name: 'write-note', version: '1', description: 'writes a note', inputs: {}, outputs: { note: Note }, parameters: z.object({}),
  async execute({ outputs }) { await writeFile(outputs.note + '/note.txt', 'hello'); return { properties: { note: {} } }; },
});
export default definePipeline('notes', (p) => { p.step('write', write, {}); });
`;

interface RunJson {
  runId: string;
  state: string;
  rerunOf?: string;
  steps: { step: string; state: string }[];
}

test('loom runs rerun runs a run again from its file as the command’s principal: editors may, viewers may not, and it is audited', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const project = await openTestPlatform(join(dir, '.loom'));
  const { secret: ed } = await project.tokens.createToken({ subject: 'ed', role: 'editor', createdBy: 'test' });
  const { secret: vic } = await project.tokens.createToken({ subject: 'vic', role: 'viewer', createdBy: 'test' });
  const file = join(dir, 'pipeline.ts');
  await writeFile(file, PIPELINE);
  const { runId: firstRun } = await runPipeline(await loadPipelineFile(file), { runner: project.runner, codeVersion: readCodeVersion(dir), pipelineFile: file });
  await project.close();
  // No stored login: the tokens come from LOOM_TOKEN only.
  const loom = (args: string[], token?: string) => runLoom(args, { cwd: dir, env: { LOOM_CREDENTIALS_FILE: join(dir, 'no-credentials.json'), ...(token ? { LOOM_TOKEN: token } : {}) } });

  const refused = await loom(['runs', 'rerun', firstRun, '--json'], vic);
  assert.equal(refused.code, EXIT_CODE.PERMISSION_DENIED, refused.stderr);
  assert.match(refused.stderr, /viewer/);

  const again = await loom(['runs', 'rerun', firstRun, '--json'], ed);
  assert.equal(again.code, 0, again.stderr);
  const rerun = JSON.parse(again.stdout) as RunJson;
  assert.equal(rerun.rerunOf, firstRun);
  assert.notEqual(rerun.runId, firstRun);
  assert.equal(rerun.state, 'COMPLETE');
  assert.deepEqual(rerun.steps.map((s) => [s.step, s.state]), [['write', 'CACHED']], 'the same file and parameters: a cache hit');

  const reopened = await openTestPlatform(join(dir, '.loom'));
  try {
    const { rerunOf, pipelineFile } = (await reopened.metadata.findContext('pipeline_run', rerun.runId))!.properties;
    assert.deepEqual([rerunOf, pipelineFile], [firstRun, file], 'the new run records what it re-ran and its file');
    const entries = (await reopened.audit.list()).items.filter((e) => e.action === 'pipeline.rerun');
    assert.deepEqual(
      entries.map((e) => [e.actor, e.target, e.address.startsWith('cli@')]),
      [['ed', `pipeline run ${firstRun}`, true]],
      'the editor’s re-run only: the refusal changed nothing',
    );
  } finally {
    await reopened.close();
  }
});
