/**
 * A `loom run` killed with SIGKILL mid-step, as a crash or the OOM killer would: the next
 * command marks its pipeline run, its running step and its tracking run FAILED with the
 * owner named, and removes the staging directories it left, while a live writer's staging
 * stays untouched.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LocalArtifactStore } from '../../src/store/local-artifact-store.js';
import { LOOM_BIN, runLoom } from '../support/cli.js';
import { makeTempDir, writeFlightsSlice } from '../support/flights.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/flights/pipeline.ts', import.meta.url));

/** Staging directories whose owner file names `pid`. */
async function stagingOf(root: string, pid: number): Promise<string[]> {
  const owned: string[] = [];
  for (const name of await readdir(join(root, 'staging')).catch(() => [])) {
    const owner = await readFile(join(root, 'staging', name, 'owner.json'), 'utf8').catch(() => '{}');
    if ((JSON.parse(owner) as { pid?: number }).pid === pid) owned.push(name);
  }
  return owned;
}

test('a run killed with SIGKILL mid-step is marked FAILED with its owner, and its staging is reclaimed by the next command', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const home = join(dir, '.loom');
  const source = join(dir, 'flights.parquet');
  await writeFlightsSlice(source, { months: [1, 2], every: 6 });
  const pipelineFile = join(dir, 'pipeline.ts');
  await writeFile(pipelineFile, `import { flightsPipeline } from ${JSON.stringify(EXAMPLE)};\nexport default flightsPipeline({ source: ${JSON.stringify(source)}, schemaPath: ${JSON.stringify(join(dir, 'flights.schema.json'))}, trainer: { algorithm: 'gbdt', numTrees: 2000, numLeaves: 31, earlyStoppingRounds: 0, checkpointEvery: 5, seed: 7 } });\n`);
  const artifacts = join(home, 'artifacts');

  const child = spawn(process.execPath, [LOOM_BIN, 'run', pipelineFile], { cwd: dir, env: { ...process.env, LOOM_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let done = false;
  void exited.then(() => (done = true));
  // Killed while the train step runs: its output is staged and its checkpoints are being written.
  while (!done && !/step train started/.test(log)) await sleep(20);
  while (!done && (await readdir(join(home, 'checkpoints')).catch(() => [])).length === 0) await sleep(20);
  assert.equal(done, false, `the run was still training: ${log}`);
  child.kill('SIGKILL');
  await exited;
  const debris = await stagingOf(artifacts, child.pid!);
  assert.ok(debris.length > 0, 'the killed run left staging directories');

  // Another writer, alive, with staging in the same store.
  const live = await new LocalArtifactStore(artifacts).stage();
  await writeFile(join(live, 'part.bin'), 'in progress');

  const runs = await runLoom(['runs', '--json'], { cwd: dir });
  assert.equal(runs.code, 0, runs.stderr);
  const run = (JSON.parse(runs.stdout) as { items: { runId: string; state: string }[] }).items[0]!;
  assert.equal(run.state, 'FAILED');
  const reason = new RegExp(`^owner process ${child.pid} on host ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} exited without finishing$`);
  const shown = await runLoom(['runs', 'show', run.runId, '--json'], { cwd: dir });
  const train = (JSON.parse(shown.stdout) as { steps: { step: string; state: string; error: string | null }[] }).steps.find((s) => s.step === 'train')!;
  assert.equal(train.state, 'FAILED');
  assert.match(train.error ?? '', reason);

  assert.deepEqual(await stagingOf(artifacts, child.pid!), [], 'the dead run\'s staging is gone');
  assert.equal(await readFile(join(live, 'part.bin'), 'utf8'), 'in progress', 'the live writer\'s staging is untouched');

  const tracked = await runLoom(['track', 'ls', '--json'], { cwd: dir });
  assert.equal(tracked.code, 0, tracked.stderr);
  const trackingRuns = (JSON.parse(tracked.stdout) as { items: { info: { status: string } }[] }).items;
  assert.ok(trackingRuns.length > 0, 'the train step started a tracking run');
  assert.deepEqual(trackingRuns.map((r) => r.info.status).filter((s) => s === 'RUNNING'), [], 'no tracking run stays RUNNING');
});
