/**
 * The part of the MetadataStore contract about work a dead process left RUNNING: each
 * RUNNING execution records its owner process, and `failAbandonedWork` marks the ones
 * whose owner is gone FAILED with the reason, leaving live and unknown owners alone.
 * Run by `describeMetadataStoreContract`.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { it } from 'node:test';
import { currentOwner, ownerGoneReason } from '../core/process-owner.js';
import { failAbandonedWork } from './abandoned-work.js';
import { deadProcessOwner, newExecution, withStore, type MakeMetadataStore } from './contract-helpers.js';
import type { MetadataStore } from './store.js';

export function describeOwnerContract(makeStore: MakeMetadataStore): void {
  const test = (title: string, body: (store: MetadataStore) => Promise<void>) => it(title, withStore(makeStore, body));

  test('a RUNNING execution is owned by the process that runs it', async (store) => {
    const created = await store.createExecution(newExecution({ state: 'RUNNING' }));
    assert.deepEqual(created.owner, currentOwner());
    const started = await store.updateExecution((await store.createExecution(newExecution())).id, { state: 'RUNNING' });
    assert.deepEqual((await store.getExecution(started.id))!.owner, currentOwner());
    assert.equal((await store.createExecution(newExecution({ state: 'SKIPPED' }))).owner, null);
  });

  test('work whose owner process is gone is marked FAILED with the reason; live and foreign owners are left alone', async (store) => {
    const dead = await deadProcessOwner();
    const abandoned = await store.createExecution(newExecution({ state: 'RUNNING', owner: dead }));
    const live = await store.createExecution(newExecution({ state: 'RUNNING' }));
    const foreign = await store.createExecution(newExecution({ state: 'RUNNING', owner: { ...dead, host: `not-${hostname()}` } }));
    const finished = await store.createExecution(newExecution({ state: 'RUNNING', owner: dead }));
    await store.updateExecution(finished.id, { state: 'COMPLETE', endedAt: Date.now() });
    const deadRun = await store.putContext({ typeName: 'pipeline_run', name: 'run-dead', properties: { state: 'RUNNING', owner: dead, startedAt: 1 } });
    const liveRun = await store.putContext({ typeName: 'pipeline_run', name: 'run-live', properties: { state: 'RUNNING', owner: currentOwner() } });
    const oldRun = await store.putContext({ typeName: 'pipeline_run', name: 'run-old', properties: { state: 'RUNNING' } });

    const result = await failAbandonedWork(store, 5_000);
    assert.deepEqual(result, { executionIds: [abandoned.id], runIds: ['run-dead'] });
    const failed = (await store.getExecution(abandoned.id))!;
    assert.deepEqual([failed.state, failed.error, failed.endedAt], ['FAILED', ownerGoneReason(dead), 5_000]);
    assert.match(failed.error!, new RegExp(`^owner process ${dead.pid} on host .+ exited without finishing$`));
    for (const id of [live.id, foreign.id]) assert.equal((await store.getExecution(id))!.state, 'RUNNING');
    assert.equal((await store.getExecution(finished.id))!.state, 'COMPLETE');
    assert.deepEqual((await store.getContext(deadRun.id))!.properties, { state: 'FAILED', owner: dead, startedAt: 1, endedAt: 5_000, error: ownerGoneReason(dead) });
    for (const run of [liveRun, oldRun]) assert.equal((await store.getContext(run.id))!.properties.state, 'RUNNING');
    assert.deepEqual(await failAbandonedWork(store), { executionIds: [], runIds: [] }, 'a second pass finds nothing left');
  });
}
