/**
 * The part of the TrackingStore contract about runs a dead process left RUNNING: a run
 * Loom starts records its owner, and `failAbandonedRuns` marks the ones whose owner is gone
 * FAILED with the reason tag; runs of live owners, other hosts and MLflow clients (no owner)
 * stay RUNNING. Run by `describeTrackingStoreContract`.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { currentOwner, ownerGoneReason } from '../core/process-owner.js';
import { deadProcessOwner, rejectsWithCode } from '../metadata/contract-helpers.js';
import type { TrackingStore } from './store.js';
import { FAILURE_REASON_TAG } from './types.js';

export function describeRunOwnerContract(test: (title: string, body: (store: TrackingStore) => Promise<void>) => void): void {
  test('runs whose owner process is gone are marked FAILED with the reason; others stay RUNNING', async (store) => {
    const dead = await deadProcessOwner();
    const abandoned = await store.createRun({ runName: 'killed', owner: dead });
    const live = await store.createRun({ runName: 'live', owner: currentOwner() });
    const foreign = await store.createRun({ runName: 'elsewhere', owner: { ...dead, host: `not-${hostname()}` } });
    const client = await store.createRun({ runName: 'mlflow client' });
    const ended = await store.createRun({ runName: 'ended', owner: dead });
    await store.updateRun(ended.info.runId, { status: 'FINISHED', endTime: 10 });

    assert.deepEqual(await store.failAbandonedRuns(), [abandoned.info.runId]);
    const failed = (await store.getRun(abandoned.info.runId))!;
    assert.equal(failed.info.status, 'FAILED');
    assert.ok(failed.info.endTime !== null && failed.info.endTime >= abandoned.info.startTime);
    assert.equal(failed.data.tags[FAILURE_REASON_TAG], ownerGoneReason(dead));
    for (const run of [live, foreign, client]) assert.equal((await store.getRun(run.info.runId))!.info.status, 'RUNNING', run.info.runName);
    assert.equal((await store.getRun(ended.info.runId))!.info.status, 'FINISHED');
    assert.deepEqual(await store.failAbandonedRuns(), [], 'a second pass finds nothing left');
    await rejectsWithCode(store.createRun({ owner: { pid: -1, host: 'h', startToken: null } }), 'INVALID_ARGUMENT', 'owner');
  });
}
