/**
 * A registered flights model with the lineage monitoring follows (statistics → schema →
 * serving model, recorded as a pipeline records them) and a prediction log of real
 * flights rows with the served model's features, for the monitor's CLI and metrics tests.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSource, queryRows, withDuckDB } from '../../src/data/duckdb.js';
import { evaluationConfig } from '../../src/evaluate/config.js';
import { evaluateRegisteredModel } from '../../src/evaluate/evaluate-registered.js';
import type { Platform } from '../../src/platform/platform.js';
import { ExampleStatistics, Examples, Schema } from '../../src/pipeline/artifact-types.js';
import { ParquetPredictionSink } from '../../src/serve/prediction-sinks.js';
import { inferSchema } from '../../src/validate/schema.js';
import { computeStatistics } from '../../src/validate/statistics.js';
import { FLIGHTS_PARQUET } from './flights.js';
import { registeredModelProject, type RegisteredModelProject } from './registered-model.js';
import { LABEL_COLUMN } from './serving-model.js';

/** Records a completed step reading `inputs` and publishing `output`, as a pipeline would; the output's id. */
export async function record(db: Platform, step: string, inputs: { name: string; id: number }[], output: { name: string; artifact: Parameters<Platform['metadata']['putArtifacts']>[0][number] | { id: number } }): Promise<number> {
  const execution = await db.metadata.createExecution({ typeName: step, stepName: step, parameters: {}, codeVersion: { commit: null, dirty: false }, state: 'RUNNING', cacheKey: `${step}-${Date.now()}` });
  await db.metadata.putEvents(inputs.map((i) => ({ artifactId: i.id, executionId: execution.id, type: 'INPUT' as const, name: i.name })));
  const published = await db.metadata.publishExecution({ executionId: execution.id, state: 'COMPLETE', outputs: [output], contextIds: [], endedAt: Date.now() });
  return published.outputs[0]!.artifact.id;
}

/** The project, with `days` daily windows of logged traffic starting at `start` (each day one month of 2001, from January). */
export async function monitoredModelProject(dir: string, start: number, months: number[]): Promise<RegisteredModelProject> {
  const project = await registeredModelProject(dir);
  const { db, artifacts, fixture } = project;
  const train = Examples.files.split(fixture.examples.path, 'train');
  const statistics = await computeStatistics(train);
  const statsDir = await artifacts.stage();
  await writeFile(ExampleStatistics.files.split(statsDir, 'train'), JSON.stringify(statistics));
  const statsUri = (await artifacts.commit(statsDir)).uri;
  const schemaDir = await artifacts.stage();
  await writeFile(Schema.files.schema(schemaDir), JSON.stringify(inferSchema(statistics, { label: LABEL_COLUMN })));
  const schemaUri = (await artifacts.commit(schemaDir)).uri;
  await db.metadata.putArtifactType(ExampleStatistics);
  await db.metadata.putArtifactType(Schema);
  const statsId = await record(db, 'statistics', [{ name: 'examples', id: project.examplesId }], { name: 'statistics', artifact: { typeName: ExampleStatistics.name, uri: statsUri, fingerprint: statsUri, properties: { splits: ['train'], rowCounts: { train: statistics.rowCount } } } });
  const schemaId = await record(db, 'schema', [{ name: 'statistics', id: statsId }], { name: 'schema', artifact: { typeName: Schema.name, uri: schemaUri, fingerprint: schemaUri, properties: { origin: 'inferred', path: 'schema.json', featureCount: 0 } } });
  await record(db, 'compose', [{ name: 'schema', id: schemaId }, { name: 'examples', id: project.examplesId }], { name: 'servingModel', artifact: { id: project.servingModelId } });

  // The served model's raw features (hour, weekday, distance, origin, destination) from real flights, one day per month.
  const sink = new ParquetPredictionSink(db.layout.predictions);
  for (const [day, month] of months.entries()) {
    const rows = await withDuckDB((duck) =>
      queryRows(duck, `SELECT hour(date) AS hour, dayofweek(date) AS weekday, distance, origin, destination FROM (SELECT *, row_number() OVER () AS rn FROM ${readSource(FLIGHTS_PARQUET)})
        WHERE month(date) = ${month} AND rn % 500 = 0 ORDER BY rn`),
    );
    await sink.write(
      rows.map((r, i) => ({
        requestId: `d${day}-${i}`,
        modelName: 'flights',
        modelVersion: 1,
        role: 'primary' as const,
        protocol: 'v2',
        features: JSON.stringify({ hour: Number(r.hour), weekday: Number(r.weekday), distance: Number(r.distance), origin: r.origin, destination: r.destination }),
        outputs: JSON.stringify({ probability: 1 / (1 + Math.exp(-(Number(r.distance) - 1000) / 500)) }),
        latencyMs: 0.5,
        loggedAt: start + day * 86_400_000 + i * 10_000,
      })),
    );
  }
  await sink.close();
  return project;
}

/**
 * Evaluates flights@champion on the project's own examples (threshold 0.4, no bootstrap, plus
 * `settings` such as slices), which records the reference scores that quality estimation (CBPE) calibrates on.
 */
export async function evaluateMonitoredModel(project: RegisteredModelProject, settings: Record<string, unknown> = {}): Promise<void> {
  const config = evaluationConfig.parse({ labelColumn: 'delayed', decisionThreshold: 0.4, bootstrap: { resamples: 0 }, ...settings });
  await evaluateRegisteredModel({ db: project.db, artifacts: project.artifacts }, { model: 'flights@champion', data: `#${project.examplesId}`, baseline: 'none', config });
}

/** One alerting rule on the flights model's daily windows, with a log action. */
export interface AlertRuleSpec {
  name: string;
  metric: string;
  when: { above: number } | { below: number } | { pValueBelow: number };
  /** Windows in a row the bound must be breached for. */
  for?: number;
}

/** March against January training moves distance by some measure above 0: a rule that fires. */
export const DISTANCE_MOVED: AlertRuleSpec = { name: 'distance-moved', metric: 'drift.training.distance', when: { above: 0 } };

/** Writes `<dir>/loom-alerts.yaml`, where `loom monitor alerts check` looks for its rules. */
export async function writeAlertRules(dir: string, rules: AlertRuleSpec[]): Promise<void> {
  const lines = rules.flatMap((rule) => [
    `  - name: ${rule.name}`,
    '    model: flights',
    `    metric: ${rule.metric}`,
    '    window: daily',
    `    when: { ${Object.entries(rule.when).map(([bound, value]) => `${bound}: ${value}`).join(', ')} }`,
    ...(rule.for === undefined ? [] : [`    for: ${rule.for}`]),
    '    actions: [{ type: log }]',
  ]);
  await writeFile(join(dir, 'loom-alerts.yaml'), `rules:\n${lines.join('\n')}\n`);
}
