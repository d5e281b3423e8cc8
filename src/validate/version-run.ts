/**
 * Validation of dataset versions outside a pipeline, as `loom data validate` runs it,
 * recorded in the metadata store like the pipeline's steps: a `pipeline_run` (pipeline
 * `data-validate`, so `loom runs` lists it) holding one `validate` execution with INPUT
 * events on the Examples it read (`examples`, `previous`, `serving`) and three OUTPUT
 * artifacts in the standard layouts: ExampleStatistics (`<split>.json` per split of the
 * version), Schema (`schema.json`, the user's or the inferred one) and ExampleAnomalies
 * (`anomalies.json`, the report on the whole version). Error-level anomalies are a
 * verdict, not a crash: the outputs are published and the run is marked FAILED.
 *
 * Usage: `const done = await validateDatasetVersion({ db, artifacts }, { version: '3fa9c1', against: '77b0e2' })`
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { datasetVersionFiles, findDatasetVersion } from '../data/versions.js';
import type { LoomDatabase } from '../pipeline/stores.js';
import type { Artifact } from '../metadata/types.js';
import { ExampleAnomalies, ExampleStatistics, Schema as SchemaArtifact } from '../pipeline/artifact-types.js';
import { readCodeVersion } from '../pipeline/code-version.js';
import { runStandaloneStep } from '../pipeline/standalone-step.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { writeSchemaFile, type Schema } from './schema.js';
import { splitStatistics, validateStatistics, type VersionValidation } from './version-report.js';

/** The pipeline name the recorded runs carry. */
export const DATA_VALIDATE_PIPELINE = 'data-validate';

export interface DatasetValidationRequest {
  /** Dataset versions as `loom data ls` lists them: a content hash or a unique prefix. */
  version: string;
  against?: string;
  serving?: string;
  schema?: Schema;
  schemaPath?: string;
  environment?: string;
  /** Called before each version's statistics are computed. */
  onVersion?: (version: string) => void;
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
}

export async function validateDatasetVersion(services: Services, request: DatasetValidationRequest): Promise<RecordedValidation> {
  const { db, artifacts } = services;
  // Every name is resolved before anything is written: a typo records nothing.
  const inputs = {
    examples: await findDatasetVersion(db, request.version),
    previous: request.against === undefined ? undefined : await findDatasetVersion(db, request.against),
    serving: request.serving === undefined ? undefined : await findDatasetVersion(db, request.serving),
  };
  for (const type of [ExampleStatistics, SchemaArtifact, ExampleAnomalies]) await db.metadata.putArtifactType(type);
  const codeVersion = readCodeVersion(process.cwd());
  const startedAt = Date.now();
  const runId = `${DATA_VALIDATE_PIPELINE}-${new Date(startedAt).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
  const pipeline = await db.metadata.putContext({ typeName: 'pipeline', name: DATA_VALIDATE_PIPELINE });
  const runProperties = { pipeline: DATA_VALIDATE_PIPELINE, startedAt, codeVersion: { ...codeVersion } };
  const run = await db.metadata.putContext({ typeName: 'pipeline_run', name: runId, properties: { ...runProperties, state: 'RUNNING' } });
  const step = {
    typeName: 'validate',
    stepName: DATA_VALIDATE_PIPELINE,
    parameters: {
      version: request.version,
      against: request.against ?? null,
      serving: request.serving ?? null,
      schema: request.schemaPath ?? null,
      environment: request.environment ?? null,
    },
    inputs: Object.entries(inputs).flatMap(([name, artifact]) => (artifact ? [{ name, artifactId: artifact.id }] : [])),
    contextIds: [pipeline.id, run.id],
    codeVersion,
    startedAt,
  };
  try {
    const done = await runStandaloneStep(services, step, ['statistics', 'schema', 'anomalies'], async ({ staging }) => {
      const summarise = async (artifact: Artifact | undefined) => {
        if (!artifact) return undefined;
        const files = await datasetVersionFiles(artifacts, artifact);
        request.onVersion?.(files.id);
        return { id: files.id, splits: await splitStatistics(files) };
      };
      const version = (await summarise(inputs.examples))!;
      const validation = validateStatistics({ ...request, version, against: await summarise(inputs.previous), serving: await summarise(inputs.serving) });
      for (const [split, stats] of Object.entries(version.splits)) await writeFile(join(staging.statistics!, `${split}.json`), `${JSON.stringify(stats)}\n`);
      await writeSchemaFile(join(staging.schema!, 'schema.json'), validation.schemaUsed);
      await writeFile(join(staging.anomalies!, 'anomalies.json'), `${JSON.stringify(validation.report, null, 2)}\n`);
      const { errorCount, warningCount } = validation.report;
      return {
        result: validation,
        properties: { errorCount, warningCount },
        outputs: {
          statistics: {
            typeName: ExampleStatistics.name,
            properties: { splits: Object.keys(version.splits), rowCounts: Object.fromEntries(Object.entries(version.splits).map(([split, s]) => [split, s.rowCount])) },
          },
          schema: { typeName: SchemaArtifact.name, properties: { origin: request.schema ? 'user' : 'inferred', path: request.schemaPath ?? '', featureCount: validation.schemaUsed.features.length } },
          anomalies: { typeName: ExampleAnomalies.name, properties: { errorCount, warningCount } },
        },
      };
    });
    const failed = done.result.report.errorCount > 0;
    await db.metadata.updateContext(run.id, { ...runProperties, state: failed ? 'FAILED' : 'COMPLETE', endedAt: Date.now() });
    return { ...done.result, runId, executionId: done.executionId, outputs: done.outputs };
  } catch (error) {
    await db.metadata.updateContext(run.id, { ...runProperties, state: 'FAILED', endedAt: Date.now() });
    throw error;
  }
}
