import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runModelOverParquet } from '../data/batch-runner.js';
import { aucRoc, confusionAt, rates } from '../evaluate/binary-metrics.js';
import { evaluationConfig } from '../evaluate/config.js';
import { evaluateRegisteredModel } from '../evaluate/evaluate-registered.js';
import { ParquetPredictionSink } from '../serve/prediction-sinks.js';
import { makeTempDir } from '../../test/support/flights.js';
import { registeredModelProject } from '../../test/support/registered-model.js';
import { onlineQuality } from './quality-run.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5);

test('online quality of a registered flights model: estimated every day, measured where labels came, beside its offline evaluation, through lineage', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await registeredModelProject(dir);
  t.after(() => project.db.close());
  const config = evaluationConfig.parse({ labelColumn: 'delayed', decisionThreshold: 0.2, slices: [{ columns: [{ feature: 'distance', boundaries: [800] }] }], minSliceSize: 20, bootstrap: { resamples: 0 } });
  const evaluated = await evaluateRegisteredModel({ db: project.db, artifacts: project.artifacts }, { model: 'flights@champion', data: `#${project.examplesId}`, baseline: 'none', config });

  // Live traffic: the eval rows served one per request over two days, logged as serving logs them.
  const logDir = join(dir, 'predictions');
  const sink = new ParquetPredictionSink(logDir);
  const scores: number[] = [];
  const labels: number[] = [];
  const rows: Parameters<ParquetPredictionSink['write']>[0] = [];
  await runModelOverParquet(join(project.fixture.servingModel.path, 'model.onnx'), join(project.fixture.examples.path, 'eval', 'data.parquet'), {
    extraColumns: ['origin', 'distance', 'delayed'],
    onBatch({ rowCount, outputs, extra }) {
      for (let i = 0; i < rowCount; i++) {
        const n = scores.length;
        scores.push(outputs.probability![i]!);
        labels.push(extra.delayed![i] ? 1 : 0);
        rows.push({
          requestId: `r${n}`,
          modelName: 'flights',
          modelVersion: 1,
          role: 'primary',
          protocol: 'v2',
          features: JSON.stringify({ origin: String(extra.origin![i]), distance: Number(extra.distance![i]) }),
          outputs: JSON.stringify({ probability: outputs.probability![i] }),
          latencyMs: 0.3,
          loggedAt: START + (n % 2) * DAY + n,
        });
      }
    },
  });
  await sink.write(rows);
  await sink.close();
  // Labels arrive for the first day only.
  const firstDay = rows.map((_, n) => n).filter((n) => n % 2 === 0);
  await project.db.labels.putLabels(firstDay.map((n) => ({ requestId: `r${n}`, modelName: 'flights', label: labels[n]! })), 'feedback');

  const report = await onlineQuality(project.db, { kind: 'parquet', dir: logDir }, { ref: 'flights@champion', window: { kind: 'daily' } });
  assert.deepEqual([report.model, report.version, report.evaluation.artifactId, report.evaluation.threshold], ['flights', 1, evaluated.evaluation.id, 0.2]);
  assert.equal(report.evaluation.rows, scores.length, 'the estimator is fitted on the evaluation split');
  assert.deepEqual(report.windows.map((w) => [w.start >= START && w.start < START + DAY, w.rows, w.labelled]), [
    [true, firstDay.length, firstDay.length],
    [false, scores.length - firstDay.length, 0],
  ]);
  const [day1, day2] = report.windows;
  const s = firstDay.map((n) => scores[n]!);
  const y = firstDay.map((n) => labels[n]!);
  assert.equal(day1!.measured!.auc, aucRoc(s, y));
  assert.equal(day1!.measured!.recall, rates(confusionAt(s, y, 0.2)).recall);
  assert.equal(day2!.measured, null);
  assert.ok(day2!.estimated.auc > 0.5 && day2!.estimated.accuracy > 0 && day2!.estimated.accuracy < 1, JSON.stringify(day2!.estimated));
  assert.deepEqual(day1!.offline, evaluated.report.metrics);
  // The slices are the evaluation's, each beside its offline figure (same spec, same key).
  assert.deepEqual(day1!.slices.map((sl) => sl.key), evaluated.report.slices.map((sl) => sl.key));
  for (const slice of day1!.slices) {
    const members = firstDay.filter((n) => JSON.parse(rows[n]!.features).distance < 800 === slice.key.includes('< 800'));
    assert.equal(slice.labelled, members.length);
    assert.equal(slice.measured!.auc, aucRoc(members.map((n) => scores[n]!), members.map((n) => labels[n]!)));
    assert.deepEqual(slice.offline, evaluated.report.slices.find((sl) => sl.key === slice.key)!.metrics);
  }

  // A client reuses request id r0 (its label can no longer name one row) and logs r-unscored twice without a score.
  const again = new ParquetPredictionSink(logDir);
  const unscored = { ...rows[0]!, requestId: 'r-unscored', outputs: JSON.stringify({ label: 1 }) };
  await again.write([{ ...rows[0]!, outputs: JSON.stringify({ probability: 0.5 }), loggedAt: rows[0]!.loggedAt + 1 }, unscored, { ...unscored, loggedAt: unscored.loggedAt + 1 }]);
  await again.close();
  const reused = await onlineQuality(project.db, { kind: 'parquet', dir: logDir }, { ref: 'flights@champion', window: { kind: 'daily' } });
  assert.equal(reused.multiRowRequests, 1, 'r0 only: the unscored rows are not in any figure');
  assert.deepEqual(reused.windows.map((w) => [w.rows, w.labelled]), [
    [firstDay.length + 1, firstDay.length - 1],
    [scores.length - firstDay.length, 0],
  ]);

  // Once the model has more labels than the log has rows, the rows' labels are looked up by request id instead of joined: the same report.
  await project.db.labels.putLabels(Array.from({ length: rows.length + 10 }, (_, n) => ({ requestId: `elsewhere-${n}`, modelName: 'flights', label: 1 })), 'feedback');
  const lookedUp = await onlineQuality(project.db, { kind: 'parquet', dir: logDir }, { ref: 'flights@champion', window: { kind: 'daily' } });
  assert.deepEqual(lookedUp, reused);
});

test('online quality needs an evaluation in lineage', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await registeredModelProject(dir);
  t.after(() => project.db.close());
  await assert.rejects(onlineQuality(project.db, { kind: 'parquet', dir: join(dir, 'none') }, { ref: 'flights@champion', window: { kind: 'daily' } }), { code: 'FAILED_PRECONDITION' });
});
