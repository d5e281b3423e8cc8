/**
 * Kept fits across processes, end to end: `loom monitor drift` and `loom monitor quality` as
 * two processes run them (each its own platform over the same project, and an empty memory
 * cache), the second reading the first's PCA and CBPE estimator from the project's fit store.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { predictionLogLocation } from '../platform/prediction-log-location.js';
import type { Platform } from '../platform/platform.js';
import { openTestPlatform } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { evaluateMonitoredModel, monitoredModelProject } from '../../test/support/monitored-model.js';
import type { FitKey, FitStore } from './fit-store.js';
import { monitorVersion } from './monitor.js';
import { onlineQuality } from './quality-run.js';
import { versionFits } from './version-fits.js';

/** The platform's fit store, recording which fits were written (a fit is written only when it was made). */
function recording(store: FitStore) {
  const written: string[] = [];
  const read: string[] = [];
  const fits: FitStore = {
    read: async (key: FitKey, now?: number) => {
      const stored = await store.read(key, now);
      if (stored) read.push(key.name);
      return stored;
    },
    write: async (key, payload, createdAt) => {
      written.push(key.name);
      await store.write(key, payload, createdAt);
    },
    touch: (key, now) => store.touch(key, now),
  };
  return { fits, written, read };
}

/** One monitoring process: a drift pass and a quality pass over every daily window, with nothing in memory. */
async function monitorProcess(platform: Platform) {
  versionFits.clear();
  const { fits, written, read } = recording(platform.monitorFits);
  const location = predictionLogLocation(platform.config);
  const drift = await monitorVersion({ metadata: platform.metadata, registry: platform.registry, artifacts: platform.artifacts, location, monitorFits: fits }, { model: 'flights', version: 1, window: { kind: 'daily' } });
  const quality = await onlineQuality({ ...platform, monitorFits: fits }, location, { ref: 'flights@1', window: { kind: 'daily' } });
  return { drift, quality, written, read };
}

test('a second process reads the version’s PCA and CBPE fits from the store instead of fitting them, and reports the same figures', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, Date.UTC(2026, 0, 5), [1, 3]);
  let first;
  try {
    await evaluateMonitoredModel(project);
    first = await monitorProcess(project.db);
  } finally {
    await project.db.close();
  }
  assert.deepEqual(first.written.sort(), ['cbpe', 'reconstruction'], 'the first process fits both');
  assert.deepEqual(first.read, []);
  assert.equal(first.drift.windows.length, 2);
  assert.ok(first.drift.windows.every((w) => w.multivariate && w.multivariate.error > 0), 'the PCA scored every window');

  const reopened = await openTestPlatform(join(dir, '.loom'));
  try {
    const second = await monitorProcess(reopened);
    assert.deepEqual(second.written, [], 'the second process made no fit');
    assert.deepEqual(second.read.sort(), ['cbpe', 'reconstruction']);
    assert.deepEqual(second.drift, first.drift);
    assert.deepEqual(second.quality, first.quality);
  } finally {
    await reopened.close();
  }
});
