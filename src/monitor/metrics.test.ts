import assert from 'node:assert/strict';
import { test } from 'node:test';
import { predictionLogLocation } from '../platform/prediction-log-location.js';
import { buildPlatformApp } from '../server/server.js';
import { makeTempDir } from '../../test/support/flights.js';
import { monitoredModelProject } from '../../test/support/monitored-model.js';
import { evaluationConfig } from '../evaluate/config.js';
import { evaluateRegisteredModel } from '../evaluate/evaluate-registered.js';
import { driftRows, monitorVersion } from './monitor.js';
import { onlineQuality, qualityHistoryRows } from './quality-run.js';

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

test("loom server's /metrics shows the latest window's online quality, estimated and measured, equal to what loom monitor quality reports", async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await monitoredModelProject(dir, Date.UTC(2026, 0, 5), [1, 3]);
  try {
    const config = evaluationConfig.parse({ labelColumn: 'delayed', decisionThreshold: 0.4, bootstrap: { resamples: 0 } });
    await evaluateRegisteredModel({ db: project.db, artifacts: project.artifacts }, { model: 'flights@champion', data: `#${project.examplesId}`, baseline: 'none', config });
    // Labels for 60 requests of the latest day (March), so it has measured figures too.
    await project.db.labels.putLabels(Array.from({ length: 60 }, (_, i) => ({ requestId: `d1-${i}`, modelName: 'flights', label: i % 3 === 0 ? 1 : 0 })), 'test');
    const location = predictionLogLocation(project.db.config);
    const report = await onlineQuality(project.db, location, { ref: 'flights@1', window: { kind: 'daily' } });
    const latest = report.windows.at(-1)!;
    assert.equal(latest.labelled, 60);
    const expected = qualityHistoryRows(report, { kind: 'daily' }).filter((r) => r.start === latest.start && r.value !== null);
    assert.deepEqual([...new Set(expected.map((r) => r.kind))], ['estimated', 'measured']);
    const app = await buildPlatformApp({ db: project.db, artifacts: project.db.artifacts, monitor: { location, labels: project.db.labels } });
    try {
      const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const gauges = new Map<string, number>();
      for (const line of body.split('\n')) {
        const match = /^loom_monitor_quality\{(.*)\} (\S+)$/.exec(line);
        if (match) gauges.set(match[1]!, Number(match[2]));
      }
      assert.equal(gauges.size, expected.length, 'one gauge per quality figure of the latest window');
      for (const row of expected) {
        const labels = `model="flights",version="1",kind="${row.kind}",metric="${row.metric}"`;
        assert.equal(gauges.get(labels), row.value, labels);
      }
      assert.match(body, /loom_monitor_quality_labelled\{model="flights",version="1"\} 60\n/);
    } finally {
      await app.close();
    }
  } finally {
    await project.db.close();
  }
});
