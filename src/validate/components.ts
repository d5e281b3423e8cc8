/**
 * The validation pipeline steps, thin adapters over the pure cores:
 * - `statistics`: Examples → ExampleStatistics (`<split>.json`, a `DatasetStatistics` per split)
 * - `schema`: ExampleStatistics → Schema (imports the user's schema file, or infers one
 *   from the train split and writes it there for the user to keep and edit)
 * - `validate`: ExampleStatistics + Schema (+ optional `previous` ExampleStatistics of span
 *   N-1 for drift, + optional `serving` ExampleStatistics for skew) → ExampleAnomalies
 *   (`anomalies.json`, an `AnomalyReport` per split); when any split has an error the
 *   anomalies are published, then the step fails and stops the pipeline. Each split is
 *   compared with the baseline's split of the same name, or with all the baseline's
 *   splits merged when it has no such split.
 *
 * Usage: `pipeline.step(schemaComponent, { inputs: { statistics }, parameters: { path: 'schema/flights.json', label: 'delayed' } })`
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { ExampleAnomalies, ExampleStatistics, Examples, Schema as SchemaArtifact } from '../pipeline/artifact-types.js';
import { smallFileFingerprint } from '../data/file-fingerprint.js';
import { defineComponent, type InputArtifact } from '../pipeline/component.js';
import { findAnomalies, formatAnomalyReport, type AnomalyReport } from './anomalies.js';
import { countAnomalies, writeAnomalyReports } from './anomaly-reports.js';
import { inferSchema, readSchemaFile, writeSchemaFile, type Schema } from './schema.js';
import { mergeStatistics } from './merge.js';
import { computeStatistics, STATISTICS_VERSION, type DatasetStatistics } from './statistics.js';
import { pathExists } from '../core/path-exists.js';

export const statisticsComponent = defineComponent({
  name: 'statistics',
  version: '2',
  description: 'Per-feature statistics of each split of a snapshot',
  inputs: { examples: { type: Examples } },
  outputs: { statistics: ExampleStatistics },
  parameters: z.object({}),
  async execute({ inputs, outputs }, services) {
    const splits = splitsOf(inputs.examples);
    const task = services.progress.start('computing statistics', splits.length, 'splits');
    const rowCounts: Record<string, number> = {};
    for (const split of splits) {
      const stats = await computeStatistics(Examples.files.split(inputs.examples.path, split));
      await writeFile(ExampleStatistics.files.split(outputs.statistics, split), `${JSON.stringify(stats)}\n`);
      rowCounts[split] = stats.rowCount;
      task.advance(1);
    }
    task.done();
    return { properties: { statistics: { splits, rowCounts } } };
  },
});

export const schemaComponent = defineComponent({
  name: 'schema',
  version: '1',
  description: "Imports the user's schema file, or infers it from the train split's statistics and writes it there",
  inputs: { statistics: { type: ExampleStatistics } },
  outputs: { schema: SchemaArtifact },
  parameters: z.object({
    /** Where the schema lives in the user's repository; relative to the working directory. */
    path: z.string().min(1),
    /** The label column, recorded when the schema is inferred. */
    label: z.string().min(1).optional(),
  }),
  async execute({ inputs, outputs, parameters }, services) {
    const path = resolve(parameters.path);
    let schema: Schema;
    let origin: 'user' | 'inferred';
    if (await pathExists(path)) {
      schema = await readSchemaFile(path);
      origin = 'user';
      services.log(`schema: using ${path}`);
    } else {
      if (!splitsOf(inputs.statistics).includes('train')) {
        throw new LoomError('FAILED_PRECONDITION', `statistics ${inputs.statistics.uri} have no train split to infer a schema from`, { retryable: false });
      }
      schema = inferSchema(await readStatistics(inputs.statistics, 'train'), { label: parameters.label });
      await writeSchemaFile(path, schema);
      origin = 'inferred';
      services.log(`schema: inferred ${schema.features.length} features and wrote ${path}; review it and keep it with your code`);
    }
    await writeSchemaFile(SchemaArtifact.files.schema(outputs.schema), schema);
    return { properties: { schema: { origin, path, featureCount: schema.features.length } } };
  },
  // The schema file is the user's to edit: an edit must not hit the cache.
  externalFingerprint: (parameters) => smallFileFingerprint(resolve(parameters.path)),
});

export const validateComponent = defineComponent({
  name: 'validate',
  version: '2',
  description: 'Checks the statistics of each split against the schema, for drift against the previous span and skew against serving data; stops the pipeline on errors',
  inputs: {
    statistics: { type: ExampleStatistics },
    schema: { type: SchemaArtifact },
    /** Statistics of the previous span (N-1): drift. */
    previous: { type: ExampleStatistics, optional: true },
    /** Statistics of serving data: skew. */
    serving: { type: ExampleStatistics, optional: true },
  },
  outputs: { anomalies: ExampleAnomalies },
  parameters: z.object({
    /** The schema environment of the data, e.g. TRAINING or SERVING. */
    environment: z.string().min(1).optional(),
  }),
  async execute({ inputs, outputs, parameters }) {
    const schema = await readSchemaFile(SchemaArtifact.files.schema(inputs.schema.path));
    const schemaPath = typeof inputs.schema.properties.path === 'string' ? inputs.schema.properties.path : inputs.schema.uri;
    const reports: AnomalyReport[] = [];
    for (const split of splitsOf(inputs.statistics)) {
      const previous = inputs.previous ? await baselineFor(inputs.previous, split) : undefined;
      const serving = inputs.serving ? await baselineFor(inputs.serving, split) : undefined;
      reports.push(findAnomalies(await readStatistics(inputs.statistics, split), schema, { split, environment: parameters.environment, previous, serving }));
    }
    await writeAnomalyReports(outputs.anomalies, reports);
    const counts = countAnomalies(reports);
    // Errors are a verdict, not a crash: the anomalies are published, then the step fails.
    const failure =
      counts.errorCount > 0
        ? {
            code: 'FAILED_PRECONDITION' as const,
            message: `the data does not match the schema:\n${reports.filter((r) => r.anomalies.length > 0).map(formatAnomalyReport).join('\n')}`,
            fix: `fix the data, or edit the schema at ${schemaPath} if the change is expected`,
          }
        : undefined;
    return { properties: { anomalies: counts }, ...(failure ? { failure } : {}) };
  },
});

const SplitsProperty = z.array(z.string().regex(/^[A-Za-z0-9_-]+$/)).min(1);

function splitsOf(artifact: InputArtifact): string[] {
  const parsed = SplitsProperty.safeParse(artifact.properties.splits);
  if (!parsed.success) {
    throw new LoomError('INVALID_ARGUMENT', `artifact ${artifact.uri} has no valid "splits" property`, { field: 'splits', retryable: false });
  }
  return parsed.data;
}

/** The baseline's split of the same name, or all its splits merged. */
async function baselineFor(artifact: InputArtifact, split: string): Promise<DatasetStatistics> {
  const splits = splitsOf(artifact);
  if (splits.includes(split)) return readStatistics(artifact, split);
  const all = await Promise.all(splits.map((s) => readStatistics(artifact, s)));
  return all.reduce((a, b) => mergeStatistics(a, b));
}

/** Reads `<split>.json` of an ExampleStatistics artifact. */
export async function readStatistics(artifact: InputArtifact, split: string): Promise<DatasetStatistics> {
  const file = ExampleStatistics.files.split(artifact.path, split);
  const value: unknown = JSON.parse(await readFile(file, 'utf8'));
  const candidate = value as Partial<DatasetStatistics> | null;
  if (!candidate || candidate.version !== STATISTICS_VERSION || typeof candidate.rowCount !== 'number' || !Array.isArray(candidate.features)) {
    throw new LoomError('INVALID_ARGUMENT', `statistics file "${file}" is not a version ${STATISTICS_VERSION} DatasetStatistics`, {
      retryable: false,
      fix: 'compute the statistics again with this version of Loom',
    });
  }
  return candidate as DatasetStatistics;
}
