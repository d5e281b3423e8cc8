import assert from 'node:assert/strict';
import { test } from 'node:test';
import { predictionLogLocation } from '../platform/prediction-log-location.js';
import { buildPlatformApp } from '../server/server.js';
import { makeTempDir } from '../../test/support/flights.js';
import { monitoredModelProject } from '../../test/support/monitored-model.js';
import { driftRows, monitorVersion } from './monitor.js';

test("loom server's /metrics shows the latest window's drift figures, equal to what loom monitor drift reports", async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, Date.UTC(2026, 0, 5), [1, 3]);
  try {
    const location = predictionLogLocation(project.db.config);
    const report = await monitorVersion({ metadata: project.db.metadata, registry: project.db.registry, artifacts: project.db.artifacts, location }, { model: 'flights', version: 1, window: { kind: 'daily' } });
    const latest = driftRows(report).filter((r) => r.window === 1 && r.value !== null);
    assert.ok(latest.length > 5);
    const app = await buildPlatformApp({ db: project.db, artifacts: project.db.artifacts, monitor: { location } });
    try {
      const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const gauges = new Map<string, number>();
      for (const line of body.split('\n')) {
        const match = /^loom_monitor_drift\{(.*)\} (\S+)$/.exec(line);
        if (match) gauges.set(match[1]!, Number(match[2]));
      }
      assert.equal(gauges.size, latest.length, 'one gauge per drift figure of the latest window');
      for (const row of latest) {
        const labels = `model="flights",version="1",feature="${row.feature}",against="${row.against}",measure="${row.measure}"`;
        // Prometheus prints doubles in their shortest exact form: the same number.
        assert.equal(gauges.get(labels), row.value, labels);
      }
      assert.match(body, new RegExp(`loom_monitor_window_rows\\{model="flights",version="1"\\} ${report.windows[1]!.rows}`));
      assert.match(body, /loom_monitor_reconstruction_error\{model="flights",version="1"\} \d/);
    } finally {
      await app.close();
    }
  } finally {
    await project.db.close();
  }
});
