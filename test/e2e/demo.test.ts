import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LOOM_BIN, runLoom } from '../support/cli.js';
import { makeTempDir, writeFlightsSlice } from '../support/flights.js';

interface DemoSummary {
  runs: { runId: string; state: string; steps: { step: string; state: string }[] }[];
  champion: number;
  predictions: { origin: string; destination: string; hour: number; probability: number; delayed: boolean }[];
}

test('loom demo trains twice on real flights, serves the champion and lineage traces it', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const source = join(dir, 'flights-q1.parquet');
  await writeFlightsSlice(source, { months: [1, 2, 3], every: 40 });

  const demo = await runLoom(['demo', '--source', source, '--json'], { cwd: dir });
  assert.equal(demo.code, 0, demo.stderr);
  const summary = JSON.parse(demo.stdout) as DemoSummary;
  assert.equal(summary.runs.length, 2);
  for (const run of summary.runs) assert.equal(run.state, 'COMPLETE');
  const firstPush = summary.runs[0]!.steps.find((s) => s.step === 'push');
  assert.equal(firstPush?.state, 'COMPLETE', 'with no champion yet, the first model is blessed and pushed');
  assert.equal(summary.predictions.length, 6);
  for (const prediction of summary.predictions) {
    assert.ok(prediction.probability > 0 && prediction.probability < 1, `probability ${prediction.probability}`);
    assert.match(prediction.origin, /^[A-Z]{3}$/);
  }

  const lineage = await runLoom(['lineage', 'flights@champion', '--json'], { cwd: dir });
  assert.equal(lineage.code, 0, lineage.stderr);
  const report = JSON.parse(lineage.stdout) as {
    model: { version: number };
    dataSnapshots: { contentHash: string; span: string }[];
    codeVersions: { commit: string | null }[];
    executions: { step: string; parameters: Record<string, unknown> }[];
  };
  assert.equal(report.model.version, summary.champion);
  assert.equal(report.dataSnapshots.length, 1);
  assert.match(report.dataSnapshots[0]!.contentHash, /^[0-9a-f]{64}$/);
  assert.match(report.codeVersions[0]?.commit ?? '', /^[0-9a-f]{40}$/, 'the demo records the commit of the Loom checkout');
  const steps = report.executions.map((e) => e.step);
  for (const step of ['ingest', 'statistics', 'schema', 'transform', 'train', 'compose']) assert.ok(steps.includes(step), `lineage has ${step}`);
  assert.equal(report.executions.find((e) => e.step === 'train')?.parameters.seed, 7);

  const runs = await runLoom(['runs', '--json'], { cwd: dir });
  assert.equal((JSON.parse(runs.stdout) as { items: unknown[] }).items.length, 2);
  const models = await runLoom(['models', 'ls', '--json'], { cwd: dir });
  const registered = JSON.parse(models.stdout) as { items: { name: string; aliases: Record<string, number> }[] };
  assert.equal(registered.items[0]?.aliases.champion, summary.champion);
  // The demo's registry changes are audited under the command's principal, like any command's.
  const audit = await runLoom(['audit', '--model', 'flights', '--json'], { cwd: dir });
  assert.equal(audit.code, 0, audit.stderr);
  const entries = (JSON.parse(audit.stdout) as { items: { action: string; actor: string }[] }).items;
  for (const action of ['model.create', 'version.create']) assert.ok(entries.some((entry) => entry.action === action), `${action} in ${JSON.stringify(entries)}`);
  assert.equal(new Set(entries.map((entry) => entry.actor)).size, 1, JSON.stringify(entries));

  // For people: a curl command only for a server that is still there.
  const text = await runLoom(['demo', '--source', source], { cwd: dir });
  assert.equal(text.code, 0, text.stderr);
  const stoppedAt = /serving flights@champion \(version \d+\) at (http:\/\/\S+) ==/.exec(text.stdout)![1]!;
  assert.ok(!text.stdout.includes(`curl -s ${stoppedAt}`), 'no curl at the port of the server the demo has stopped');
  assert.match(text.stdout, /has stopped; .*`loom serve flights`/);
  assert.match(text.stdout, /curl -s http:\/\/127\.0\.0\.1:8080\/v2\/models\/flights\/infer/, 'the curl for `loom serve flights` on its default port');

  const serving = spawn(process.execPath, [LOOM_BIN, 'demo', '--source', source, '--serve', '--port', '0'], { cwd: dir, env: { ...process.env, LOOM_HOME: join(dir, '.loom') }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => serving.on('exit', resolve));
  t.after(() => void serving.kill('SIGKILL'));
  let stdout = '';
  serving.stdout.on('data', (chunk) => (stdout += chunk));
  while (!/until Ctrl-C/.test(stdout)) {
    if (serving.exitCode !== null) assert.fail(`loom demo --serve exited: ${stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const curl = /curl -s (http:\/\/\S+) -H 'content-type: application\/json' \\\n\s+-d '(.*)'/.exec(stdout);
  assert.ok(curl, `a curl command while serving: ${stdout}`);
  const response = await fetch(curl[1]!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: curl[2]! });
  assert.equal(response.status, 200, 'the printed request works against the server that keeps serving');
  serving.kill('SIGTERM');
  assert.equal(await exited, 0);
});
