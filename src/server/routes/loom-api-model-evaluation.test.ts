// GET /api/loom/models/:name/versions/:version/evaluation over a real registered model that
// `loom evaluate`'s code path evaluated (recorded as an execution with typed events): the view
// holds the recorded report's numbers, slice intervals, fairness groups and the model card.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test, type TestContext } from 'node:test';
import { evaluationConfig } from '../../evaluate/config.js';
import { evaluateRegisteredModel } from '../../evaluate/evaluate-registered.js';
import { ModelEvaluation } from '../../pipeline/artifact-types.js';
import type { ModelEvaluationView } from '../../queries/model-evaluation.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { registeredModelProject } from '../../../test/support/registered-model.js';
import { buildPlatformApp } from '../server.js';

/** A registered model's project (test/support/registered-model.ts) behind the platform API, both closed after the test. */
async function registeredModelServer(t: TestContext) {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await registeredModelProject(dir);
  const server = await buildPlatformApp({ db: project.db, artifacts: project.artifacts });
  t.after(async () => {
    await server.close();
    await project.db.close();
  });
  return { project, server };
}

test("a version's evaluations: the recorded metrics, slices with intervals, fairness and model card; refusals", async (t) => {
  const { project, server } = await registeredModelServer(t);
  const url = '/api/loom/models/flights/versions/1/evaluation';
  const get = async (path: string) => (await server.inject(path)).json() as ModelEvaluationView;

  // The fixture's push ran outside the metadata store: no evaluation is recorded against the artifact yet.
  assert.deepEqual(await get(url), { model: { name: 'flights', version: 1 }, evaluations: [], selected: null });

  const config = evaluationConfig.parse({
    labelColumn: 'delayed',
    slices: [{ name: 'hour', columns: [{ feature: 'hour', boundaries: [12] }] }],
    fairness: [{ features: ['origin'] }],
    minSliceSize: 20,
    bootstrap: { resamples: 40, seed: 5 },
  });
  const first = await evaluateRegisteredModel({ db: project.db, artifacts: project.artifacts }, { model: 'flights@1', data: `#${project.examplesId}`, baseline: 'none', config });
  const second = await evaluateRegisteredModel({ db: project.db, artifacts: project.artifacts }, { model: 'flights@1', data: `#${project.examplesId}`, baseline: 'none', config: { ...config, slices: [] } });

  const view = await get(url);
  assert.deepEqual(view.evaluations.map((e) => e.artifactId), [second.evaluation.id, first.evaluation.id], 'newest first');
  assert.equal(view.selected?.artifactId, second.evaluation.id, 'the newest when none was registered with the version');
  assert.deepEqual(view.evaluations.map((e) => [e.pipelineRun, e.registeredWith]), [[false, false], [false, false]], '`loom evaluate` runs, not pipeline runs');
  const chosen = (await get(`${url}?evaluation=${first.evaluation.id}`)).selected!;
  const report = first.report;
  assert.equal(chosen.rowCount, report.rowCount);
  assert.equal(chosen.executionId, first.executionId);
  const auc = chosen.metrics.find((m) => m.name === 'auc')!;
  assert.deepEqual(auc, { name: 'auc', value: report.metrics.auc, lower: report.confidenceIntervals.auc!.lower, upper: report.confidenceIntervals.auc!.upper, baseline: null });
  assert.deepEqual(chosen.slices.map((s) => [s.key, s.exampleCount]), report.slices.map((s) => [s.key, s.exampleCount]));
  for (const slice of chosen.slices) {
    const recorded = report.slices.find((s) => s.key === slice.key)!;
    const row = slice.metrics.find((m) => m.name === 'log_loss')!;
    assert.deepEqual([row.value, row.lower, row.upper], [recorded.metrics.log_loss, recorded.confidenceIntervals!.log_loss!.lower, recorded.confidenceIntervals!.log_loss!.upper]);
  }
  const fairness = chosen.fairness[0]!;
  assert.equal(fairness.name, 'origin');
  assert.equal(fairness.groups.reduce((n, g) => n + Number(g.count), 0), report.rowCount, 'every row in one group');
  assert.ok(fairness.disparities.some((d) => d.name === 'demographic_parity_difference' && typeof d.value === 'number'));
  assert.equal(chosen.modelCard, await readFile(ModelEvaluation.files.cardMarkdown(await project.artifacts.localPath(first.evaluation.uri)), 'utf8'));
  assert.deepEqual([chosen.data.uri, chosen.blessing.blessed], [report.context.data.uri, report.blessing.blessed]);

  const refusals = [
    [`${url}?evaluation=${project.servingModelId}`, 404],
    [`${url}?evaluation=x`, 400],
    ['/api/loom/models/flights/versions/zero/evaluation', 400],
    ['/api/loom/models/flights/versions/9/evaluation', 404],
    ['/api/loom/models/nope/versions/1/evaluation', 404],
  ] as const;
  for (const [path, status] of refusals) assert.equal((await server.inject(path)).statusCode, status, path);
});

test('the model versions made from a dataset version: none without a recorded push; a malformed or unknown version is refused', async (t) => {
  const { project, server } = await registeredModelServer(t);
  const [examples] = await project.db.metadata.getArtifacts([project.examplesId]);
  const hash = String(examples!.properties.contentHash ?? examples!.fingerprint);
  // The fixture pushed outside the metadata store: no PushedModel is downstream of the data.
  assert.deepEqual((await server.inject(`/api/loom/datasets/${hash.slice(0, 8)}/models`)).json(), { version: hash, models: [] });
  assert.equal((await server.inject('/api/loom/datasets/xyz!/models')).statusCode, 400);
  assert.equal((await server.inject('/api/loom/datasets/ffffffff/models')).statusCode, 404);
});
