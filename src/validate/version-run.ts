/**
 * Validation of dataset versions outside a pipeline, as `loom data validate` runs it,
 * through the one step runner: a `pipeline_run` (pipeline `data-validate`, so `loom runs`
 * lists it) holding one `validate` execution (version-component.ts) with INPUT events on
 * the Examples it read (`examples`, `previous`, `serving`) and three OUTPUT artifacts:
 * ExampleStatistics, Schema and ExampleAnomalies. Error-level anomalies are a verdict:
 * the outputs are published, then the execution and the run are FAILED; the report is
 * returned all the same, read back from the published artifacts.
 *
 * Usage: `const done = await validateDatasetVersion({ db, artifacts }, { version: '3fa9c1', against: '77b0e2' })`
 */
import { readFile } from 'node:fs/promises';
import type { Progress } from '../core/progress.js';
import { findDatasetVersion, versionOf } from '../data/versions.js';
import type { LoomDatabase } from '../pipeline/stores.js';
import type { Artifact } from '../metadata/types.js';
import { ExampleStatistics, Schema as SchemaArtifact } from '../pipeline/artifact-types.js';
import { readCodeVersion } from '../pipeline/code-version.js';
import { startPipelineRun } from '../pipeline/run-scope.js';
import { createStepRunner, type StepRunner } from '../pipeline/step-runner.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { readAnomalyReports } from './anomaly-reports.js';
import { readSchemaFile, type Schema } from './schema.js';
import type { DatasetStatistics } from './statistics.js';
import { versionValidationComponent } from './version-component.js';
import { versionStatistics, type VersionValidation } from './version-report.js';

/** The pipeline name the recorded runs carry. */
export const DATA_VALIDATE_PIPELINE = 'data-validate';

export interface DatasetValidationRequest {
  /** Dataset versions as `loom data ls` lists them: a content hash or a unique prefix. */
  version: string;
  against?: string;
  serving?: string;
  /** The user's schema file; inferred when left out. */
  schemaPath?: string;
  environment?: string;
  progress?: Progress;
}

export interface RecordedValidation extends VersionValidation {
  runId: string;
  executionId: number;
  /** The published outputs: statistics, schema, anomalies. */
  outputs: Record<string, Artifact>;
}

interface Services {
  db: LoomDatabase;
  artifacts: ArtifactStore;
  /** The platform's runner; one over `db` and `artifacts` when left out. */
  runner?: StepRunner;
}

export async function validateDatasetVersion(services: Services, request: DatasetValidationRequest): Promise<RecordedValidation> {
  const { db, artifacts } = services;
  // Every name is resolved before anything is written: a typo records nothing.
  const inputs = {
    examples: await findDatasetVersion(db, request.version),
    previous: request.against === undefined ? undefined : await findDatasetVersion(db, request.against),
    serving: request.serving === undefined ? undefined : await findDatasetVersion(db, request.serving),
  };
  // A schema file that does not parse is the user's error, named before a run is recorded.
  if (request.schemaPath !== undefined) await readSchemaFile(request.schemaPath);
  const runner = services.runner ?? createStepRunner({ metadata: db.metadata, registry: db.registry, tracking: db.tracking, artifacts });
  const run = await startPipelineRun(db.metadata, { pipelineName: DATA_VALIDATE_PIPELINE, codeVersion: readCodeVersion(process.cwd()) });
  const outcome = await runner
    .run({
      component: versionValidationComponent,
      stepName: DATA_VALIDATE_PIPELINE,
      inputs,
      parameters: { version: request.version, against: request.against ?? null, serving: request.serving ?? null, schema: request.schemaPath ?? null, environment: request.environment ?? null },
      run: run.scope,
      // Each check is a record of its own, even of a version checked before.
      cache: false,
      progress: request.progress,
    })
    .catch(async (error: unknown) => {
      await run.finish('FAILED');
      throw error;
    });
  await run.finish(outcome.state === 'COMPLETE' ? 'COMPLETE' : 'FAILED');
  const { statistics, schema, anomalies } = outcome.outputs;
  // Failed without a verdict (a crash, a bad schema file): nothing to report.
  if (!statistics || !schema || !anomalies) throw outcome.error!;
  const execution = await db.metadata.getExecution(outcome.executionId);
  const bySplit: Record<string, DatasetStatistics> = {};
  const statisticsDir = await artifacts.localPath(statistics.uri);
  for (const split of statistics.properties.splits as string[]) {
    bySplit[split] = JSON.parse(await readFile(ExampleStatistics.files.split(statisticsDir, split), 'utf8')) as DatasetStatistics;
  }
  const version = versionOf(inputs.examples);
  return {
    version,
    against: inputs.previous ? versionOf(inputs.previous) : null,
    serving: inputs.serving ? versionOf(inputs.serving) : null,
    schema: String(execution?.properties.schemaSource ?? ''),
    schemaUsed: (await readSchemaFile(SchemaArtifact.files.schema(await artifacts.localPath(schema.uri)))) as Schema,
    statistics: versionStatistics(version, bySplit),
    report: (await readAnomalyReports(await artifacts.localPath(anomalies.uri))).reports[0]!,
    runId: run.scope.runId,
    executionId: outcome.executionId,
    outputs: outcome.outputs,
  };
}
