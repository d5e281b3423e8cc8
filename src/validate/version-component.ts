/**
 * The step `loom data validate` runs: a whole dataset version (its splits merged) checked
 * against the user's schema, or one inferred from the baseline version (else from the
 * version itself), for drift against an earlier version and skew of serving data.
 * Examples in (`examples`, optional `previous` and `serving`); ExampleStatistics (per split
 * of the version), Schema and ExampleAnomalies (one report on the whole version) out. As
 * in a pipeline's validate step, error-level anomalies are published, then fail the step.
 */
import { z } from 'zod';
import { writeFile } from 'node:fs/promises';
import { datasetVersionFiles } from '../data/versions.js';
import { ExampleAnomalies, ExampleStatistics, Examples, Schema as SchemaArtifact } from '../pipeline/artifact-types.js';
import { defineComponent, type InputArtifact } from '../pipeline/component.js';
import { writeAnomalyReports } from './anomaly-reports.js';
import { readSchemaFile, writeSchemaFile } from './schema.js';
import { splitStatistics, validateStatistics, type VersionStatistics } from './version-report.js';

export const versionValidationParameters = z.object({
  /** The versions as the user named them (content hashes or prefixes), recorded with the run. */
  version: z.string().min(1),
  against: z.string().min(1).nullable().default(null),
  serving: z.string().min(1).nullable().default(null),
  /** The user's schema file; inferred when null. */
  schema: z.string().min(1).nullable().default(null),
  environment: z.string().min(1).nullable().default(null),
});

export const versionValidationComponent = defineComponent({
  name: 'validate',
  version: 'version-1',
  description: 'Checks a whole dataset version against the schema, for drift against another version and skew of serving data',
  inputs: {
    examples: { type: Examples },
    previous: { type: Examples, optional: true },
    serving: { type: Examples, optional: true },
  },
  outputs: { statistics: ExampleStatistics, schema: SchemaArtifact, anomalies: ExampleAnomalies },
  parameters: versionValidationParameters,
  async execute({ inputs, outputs, parameters }, services) {
    const versions = [inputs.examples, inputs.previous, inputs.serving].filter((input) => input !== undefined).length;
    const task = services.progress.start('computing statistics', versions, 'versions');
    const summarise = async (artifact: InputArtifact | undefined): Promise<VersionStatistics | undefined> => {
      if (!artifact) return undefined;
      const files = await datasetVersionFiles(services.artifacts, artifact);
      const summary = { id: files.id, splits: await splitStatistics(files) };
      task.advance(1);
      return summary;
    };
    const version = (await summarise(inputs.examples))!;
    const schema = parameters.schema === null ? undefined : await readSchemaFile(parameters.schema);
    const validation = validateStatistics({
      version,
      against: await summarise(inputs.previous),
      serving: await summarise(inputs.serving),
      schema,
      schemaPath: parameters.schema ?? undefined,
      environment: parameters.environment ?? undefined,
    });
    task.done();
    for (const [split, stats] of Object.entries(version.splits)) await writeFile(ExampleStatistics.files.split(outputs.statistics, split), `${JSON.stringify(stats)}\n`);
    await writeSchemaFile(SchemaArtifact.files.schema(outputs.schema), validation.schemaUsed);
    await writeAnomalyReports(outputs.anomalies, [validation.report]);
    const { errorCount, warningCount } = validation.report;
    return {
      properties: {
        statistics: { splits: Object.keys(version.splits), rowCounts: Object.fromEntries(Object.entries(version.splits).map(([split, s]) => [split, s.rowCount])) },
        schema: { origin: schema ? ('user' as const) : ('inferred' as const), path: parameters.schema ?? '', featureCount: validation.schemaUsed.features.length },
        anomalies: { errorCount, warningCount },
      },
      // Where the schema came from, for the report read back from the outputs.
      executionProperties: { errorCount, warningCount, schemaSource: validation.schema },
      ...(errorCount > 0
        ? {
            failure: {
              code: 'FAILED_PRECONDITION' as const,
              message: `dataset version ${version.id.slice(0, 12)} has ${errorCount} error-level ${errorCount === 1 ? 'anomaly' : 'anomalies'}`,
              fix: parameters.schema ? `fix the data, or edit ${parameters.schema} if the change is expected` : 'fix the data, or save a schema, edit it, and pass it with --schema',
            },
          }
        : {}),
    };
  },
});
