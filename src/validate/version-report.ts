/**
 * Validation of whole dataset versions, as `loom data validate` runs it: the statistics
 * of a version are those of its splits merged (merge.ts), checked against the user's
 * schema (or one inferred from the baseline version, else from the version itself), with
 * drift against an earlier version and skew against serving data.
 *
 * Usage: `const result = await validateVersion({ version: { id: 'ab12…', splits: { train: '…/train/data.parquet' } }, against })`
 */
import { findAnomalies, type AnomalyReport } from './anomalies.js';
import { mergeStatistics } from './merge.js';
import { inferSchema, type Schema } from './schema.js';
import { computeStatistics, type DatasetStatistics } from './statistics.js';

/** A dataset version's files: split name → data file. */
export interface VersionFiles {
  id: string;
  splits: Record<string, string>;
}

export interface ValidateVersionRequest {
  version: VersionFiles;
  /** The previous version (span N-1): drift, and the schema when none is given. */
  against?: VersionFiles;
  /** A version of serving data: skew of it against `version` as training data. */
  serving?: VersionFiles;
  /** The user's schema; inferred when left out. */
  schema?: Schema;
  /** Where `schema` came from, for the report. */
  schemaPath?: string;
  environment?: string;
}

export interface VersionValidation {
  version: string;
  against: string | null;
  serving: string | null;
  /** The schema file, or where the schema was inferred from. */
  schema: string;
  /** The schema validated against: the user's, or the inferred one to save and edit. */
  schemaUsed: Schema;
  statistics: DatasetStatistics;
  report: AnomalyReport;
}

/** Statistics of every split of a version, merged into those of the whole version. */
export async function statisticsOfVersion(files: VersionFiles): Promise<DatasetStatistics> {
  const all: DatasetStatistics[] = [];
  for (const path of Object.values(files.splits)) all.push(await computeStatistics(path));
  if (all.length === 0) throw new Error(`dataset version ${files.id} has no splits`);
  return all.reduce((a, b) => mergeStatistics(a, b));
}

export async function validateVersion(request: ValidateVersionRequest): Promise<VersionValidation> {
  const statistics = await statisticsOfVersion(request.version);
  const previous = request.against ? await statisticsOfVersion(request.against) : undefined;
  const serving = request.serving ? await statisticsOfVersion(request.serving) : undefined;
  const schema = request.schema ?? inferSchema(previous ?? statistics);
  const source = request.schema
    ? (request.schemaPath ?? 'the given schema')
    : `inferred from version ${short((request.against ?? request.version).id)}`;
  const report = findAnomalies(statistics, schema, { environment: request.environment, previous, serving });
  return {
    version: request.version.id,
    against: request.against?.id ?? null,
    serving: request.serving?.id ?? null,
    schema: source,
    schemaUsed: schema,
    statistics,
    report,
  };
}

function short(id: string): string {
  return id.slice(0, 12);
}
