/**
 * A project for canary-stage tests: a flights model (its real scores on real eval rows) as
 * champion v1 and the same artifact as v2 on the canary, every other request logged to each
 * side and every label arrived. On SQLite, or in a fresh schema of a PostgreSQL server.
 *
 * Usage: `const { project, logDir, rows, v2 } = await canaryProject(t, (score) => score);`
 *        `await decideCanaryStage(project.db, { kind: 'parquet', dir: logDir }, canaryRequest('flights', rows));`
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runModelOverParquet } from '../../src/data/batch-runner.js';
import { evaluationConfig } from '../../src/evaluate/config.js';
import { evaluateRegisteredModel } from '../../src/evaluate/evaluate-registered.js';
import { startCanary, type CanaryCheck, type CanaryStageResult } from '../../src/monitor/canary-stage.js';
import { readCodeVersion } from '../../src/pipeline/code-version.js';
import { ParquetPredictionSink } from '../../src/serve/prediction-sinks.js';
import { dropSchema, randomSchemaName } from './databases.js';
import { makeTempDir } from './flights.js';
import { registeredModelProject } from './registered-model.js';

/** When the first logged request was answered; request n at CANARY_START + n. */
export const CANARY_START = Date.UTC(2026, 0, 5);
const START = CANARY_START;

/**
 * A flights model (its real scores on real eval rows) as champion v1 and the same artifact as
 * v2 on the canary: every other request goes to each side, as serving logs it, and every label
 * arrives. `canaryScores` says what the canary answered, from the real score. `overrides` open
 * the project again (its database), in another process.
 */
export async function canaryProject(t: { after: (fn: () => Promise<void>) => void }, canaryScores: (score: number) => number, postgresUrl?: string) {
  const dir = await makeTempDir(t.after.bind(t));
  const schema = randomSchemaName();
  const overrides = postgresUrl ? { database: { url: postgresUrl, schema } } : {};
  const project = await registeredModelProject(dir, overrides);
  t.after(async () => {
    await project.db.close();
    if (postgresUrl) await dropSchema(postgresUrl, schema);
  });
  const config = evaluationConfig.parse({ labelColumn: 'delayed', bootstrap: { resamples: 0 } });
  await evaluateRegisteredModel({ db: project.db, artifacts: project.artifacts }, { model: 'flights@champion', data: `#${project.examplesId}`, baseline: 'none', config });
  const v2 = await project.db.registry.createModelVersion({ modelName: 'flights', source: project.fixture.servingModel.uri, artifactId: project.servingModelId, status: 'READY', runId: null, description: 'the canary' });
  await startCanary(project.db, { model: 'flights', version: v2.version, weight: 0.5 });

  const logDir = join(project.home, 'predictions');
  const sink = new ParquetPredictionSink(logDir);
  const rows: Parameters<ParquetPredictionSink['write']>[0] = [];
  const labels: { requestId: string; modelName: string; label: number }[] = [];
  await runModelOverParquet(join(project.fixture.servingModel.path, 'model.onnx'), join(project.fixture.examples.path, 'eval', 'data.parquet'), {
    extraColumns: ['delayed'],
    onBatch({ rowCount, outputs, extra }) {
      for (let i = 0; i < rowCount; i++) {
        const n = rows.length;
        const canary = n % 2 === 1;
        const score = outputs.probability![i]!;
        rows.push({ requestId: `r${n}`, modelName: 'flights', modelVersion: canary ? v2.version : 1, role: canary ? 'canary' : 'primary', protocol: 'v2', features: '{}', outputs: JSON.stringify({ probability: canary ? canaryScores(score) : score }), latencyMs: 0.3, loggedAt: START + n });
        labels.push({ requestId: `r${n}`, modelName: 'flights', label: extra.delayed![i] ? 1 : 0 });
      }
    },
  });
  await sink.write(rows);
  await sink.close();
  await project.db.labels.putLabels(labels, 'feedback');
  return { project, logDir, rows: rows.length, v2: v2.version, overrides };
}

/** A check of the whole window, with a small minimum of rows and labels. */
export const canaryRequest = (model: string, rows: number, tolerance = 0.01) => ({ model, from: START, to: START + rows, policy: { minRows: 100, minLabelled: 100, tolerance }, codeVersion: readCodeVersion(process.cwd()) });

/** A check's answer that must be a decision (or a finished one), not another check's decision in progress. */
export function decidedCheck(check: CanaryCheck): CanaryStageResult {
  assert.ok(!('inProgress' in check), 'inProgress' in check ? check.message : '');
  return check;
}
