// Live tracking from pipeline steps: the orchestrator lends each step attempt a tracking
// logger; points are in the store while the step still runs, and the run carries the
// pipeline run and execution it belongs to, ending FINISHED or FAILED with the attempt.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { openTestPlatform } from '../../test/support/databases.js';
import { testStepRunner } from '../../test/support/step-runner.js';
import { artifactType, prop } from '../pipeline/artifact-types.js';
import { defineComponent } from '../pipeline/component.js';
import { definePipeline } from '../pipeline/dsl.js';
import { runPipeline } from '../pipeline/orchestrator.js';
import { LocalArtifactStore } from '../store/local-artifact-store.js';
import { makeTempDir } from '../../test/support/flights.js';
import { EXECUTION_TAG, PIPELINE_RUN_TAG, STEP_TAG } from './logger.js';
import type { TrackingStore } from './store.js';

const Curve = artifactType({ name: 'TestCurve', description: 'curve.json', properties: { epochs: prop.int() }, files: {} });

/** Seen from outside the executor while it runs: the run's loss history after each epoch. */
const seenWhileRunning: number[][] = [];
let reader: TrackingStore | undefined;

const fit = defineComponent({
  name: 'fit', version: '1', description: 'logs a falling loss per epoch; fails when told to',
  inputs: {}, outputs: { curve: Curve },
  parameters: z.object({ epochs: z.number().int(), failAfter: z.number().int().optional() }),
  async execute({ outputs, parameters }, services) {
    await services.tracking?.logParams({ epochs: parameters.epochs });
    for (let epoch = 1; epoch <= parameters.epochs; epoch++) {
      await services.tracking?.logMetrics({ loss: 1 / epoch }, { step: epoch });
      const runs = await reader!.searchRuns({ experimentIds: [(await reader!.getExperimentByName('live'))!.experimentId], filter: "attributes.status = 'RUNNING'" });
      const runId = runs.items[0]?.info.runId;
      seenWhileRunning.push(runId ? (await reader!.getMetricHistory(runId, 'loss')).items.map((m) => m.step) : []);
      if (parameters.failAfter === epoch) throw new LoomError('FAILED_PRECONDITION', 'loss diverged');
    }
    await writeFile(join(outputs.curve, 'curve.json'), '[]');
    return { properties: { curve: { epochs: parameters.epochs } } };
  },
});

test('a step logs live metrics to a tracking run linked to its execution and pipeline run', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  reader = db.tracking;
  seenWhileRunning.length = 0;
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const pipeline = (failAfter?: number) => definePipeline('live', (p) => void p.step('fit', fit, { parameters: { epochs: 3, failAfter } }));
  const run = (failAfter?: number) => runPipeline(pipeline(failAfter), { runner: testStepRunner(db, artifacts), codeVersion: { commit: null, dirty: false } });

  const ok = await run();
  assert.equal(ok.state, 'COMPLETE');
  assert.deepEqual(seenWhileRunning, [[1], [1, 2], [1, 2, 3]], 'each epoch is in the store before the next begins');
  const experiment = await db.tracking.getExperimentByName('live');
  const runs = await db.tracking.searchRuns({ experimentIds: [experiment!.experimentId], filter: `tags.${PIPELINE_RUN_TAG} = '${ok.runId}'` });
  assert.equal(runs.items.length, 1);
  const finished = runs.items[0]!;
  assert.equal(finished.info.status, 'FINISHED');
  assert.ok(finished.info.endTime);
  assert.equal(finished.data.tags[EXECUTION_TAG], String(ok.steps[0]!.executionId));
  assert.equal(finished.data.tags[STEP_TAG], 'fit');
  assert.deepEqual(finished.data.params, { epochs: '3' });
  assert.deepEqual(finished.data.metrics.map((m) => [m.key, m.step]), [['loss', 3]]);

  const failed = await run(2);
  assert.equal(failed.state, 'FAILED');
  const failedRuns = await db.tracking.searchRuns({ experimentIds: [experiment!.experimentId], filter: `tags.${PIPELINE_RUN_TAG} = '${failed.runId}'` });
  assert.equal(failedRuns.items[0]?.info.status, 'FAILED');
  assert.deepEqual((await db.tracking.getMetricHistory(failedRuns.items[0]!.info.runId, 'loss')).items.map((m) => m.step), [1, 2]);

  const cached = await run();
  assert.equal(cached.steps[0]!.state, 'CACHED');
  const cachedRuns = await db.tracking.searchRuns({ experimentIds: [experiment!.experimentId], filter: `tags.${PIPELINE_RUN_TAG} = '${cached.runId}'` });
  assert.equal(cachedRuns.items.length, 0, 'a cached step trains nothing and makes no run');
});
