// `loom track` as a user runs it: the real command in a child process over a real project database.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoomDatabase } from '../../pipeline/stores.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { runCompiledLoom } from '../../../test/support/cli.js';
import { makeTempDir } from '../../../test/support/flights.js';

async function project(t: { after: (fn: () => Promise<void>) => void }): Promise<{ cwd: string; db: LoomDatabase }> {
  const cwd = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(join(cwd, '.loom'));
  t.after(() => db.close());
  return { cwd, db };
}

test('track ls, show and compare list, filter and compare runs', async (t) => {
  const { cwd, db } = await project(t);
  const { experimentId } = await db.tracking.createExperiment({ name: 'flights' });
  const ids: string[] = [];
  for (const [name, lr, auc] of [['slow', '0.01', 0.61], ['fast', '0.1', 0.74]] as const) {
    const run = await db.tracking.createRun({ experimentId, runName: name });
    await db.tracking.logBatch(run.info.runId, { params: [{ key: 'lr', value: lr }, { key: 'epochs', value: '5' }], metrics: [{ key: 'auc', value: auc, timestamp: Date.now(), step: 5 }] });
    await db.tracking.updateRun(run.info.runId, { status: 'FINISHED', endTime: Date.now() });
    ids.push(run.info.runId);
  }

  const listed = await runCompiledLoom(['track', 'ls', '--experiment', 'flights', '--json'], { cwd });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout).items.map((r: { info: { runName: string } }) => r.info.runName), ['fast', 'slow']);
  const filtered = await runCompiledLoom(['track', 'ls', '--filter', "metrics.auc > 0.7 and params.lr = '0.1'"], { cwd });
  assert.equal(filtered.code, 0, filtered.stderr);
  assert.match(filtered.stdout, /fast/);
  assert.doesNotMatch(filtered.stdout, /slow/);
  const bad = await runCompiledLoom(['track', 'ls', '--filter', 'metrics.auc >> 1'], { cwd });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /filter/);
  const unknown = await runCompiledLoom(['track', 'ls', '--experiment', 'nope'], { cwd });
  assert.equal(unknown.code, 3);

  const shown = await runCompiledLoom(['track', 'show', ids[1]!], { cwd });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /FINISHED/);
  assert.match(shown.stdout, /lr\s+0\.1/);
  assert.match(shown.stdout, /auc\s+0\.74\s+5/);
  assert.equal((await runCompiledLoom(['track', 'show', 'f'.repeat(32)], { cwd })).code, 3);

  const compared = await runCompiledLoom(['track', 'compare', ...ids, '--json'], { cwd });
  assert.equal(compared.code, 0, compared.stderr);
  const comparison = JSON.parse(compared.stdout);
  assert.deepEqual(comparison.params, [
    { key: 'epochs', values: ['5', '5'], differs: false },
    { key: 'lr', values: ['0.01', '0.1'], differs: true },
  ]);
  const table = await runCompiledLoom(['track', 'compare', ...ids], { cwd });
  assert.match(table.stdout, /\* params\.lr\s+0\.01\s+0\.1/);
});

test('track watch follows a run as it logs, then exits when it ends', async (t) => {
  const { cwd, db } = await project(t);
  const run = await db.tracking.createRun({ runName: 'training' });
  const id = run.info.runId;
  const watching = runCompiledLoom(['track', 'watch', id, '--interval', '100'], { cwd });
  const watchingJson = runCompiledLoom(['track', 'watch', id, '--interval', '100', '--json'], { cwd });
  for (const [step, loss] of [[1, 0.9], [2, 0.6], [3, 0.45]] as const) {
    await sleep(400);
    await db.tracking.logBatch(id, { metrics: [{ key: 'loss', value: loss, timestamp: Date.now(), step }, { key: 'eval_auc', value: 0.5 + step / 10, timestamp: Date.now(), step }] });
  }
  await sleep(300);
  await db.tracking.updateRun(id, { status: 'FINISHED', endTime: Date.now() });
  const [plain, json] = await Promise.all([watching, watchingJson]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual(plain.stdout.trim().split('\n'), [
    'step 1 eval_auc=0.6 loss=0.9',
    'step 2 eval_auc=0.7 loss=0.6',
    'step 3 eval_auc=0.8 loss=0.45',
    `run ${id} FINISHED`,
  ]);
  const lines = json.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(lines.filter((l) => l.key === 'loss').map((l) => [l.step, l.value]), [[1, 0.9], [2, 0.6], [3, 0.45]]);
  assert.equal(lines.at(-1).status, 'FINISHED');
});
