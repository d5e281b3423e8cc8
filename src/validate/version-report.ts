/**
 * Validation of whole dataset versions, as `loom data validate` runs it (recorded by
 * `version-run.ts`): the statistics of a version are those of its splits merged
 * (merge.ts), checked against the user's schema (or one inferred from the baseline
 * version, else from the version itself), with drift against an earlier version and skew
 * against serving data. The pipeline's `validate` step checks split by split instead.
 *
 * Usage: `const result = validateStatistics({ version: { id, splits: await splitStatistics(files) }, against })`
 */
import { LoomError } from '../core/errors.js';
import { findAnomalies, type AnomalyReport } from './anomalies.js';
import { mergeStatistics } from './merge.js';
import { inferSchema, type Schema } from './schema.js';
import { computeStatistics, type DatasetStatistics } from './statistics.js';

/** A dataset version's files: split name → data file. */
export interface VersionFiles {
  id: string;
  splits: Record<string, string>;
}

export interface ValidateStatisticsRequest {
  version: VersionStatistics;
  /** The previous version (span N-1): drift, and the schema when none is given. */
  against?: VersionStatistics;
  /** A version of serving data: skew of it against `version` as training data. */
  serving?: VersionStatistics;
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

/** Statistics of each split of a version: split name -> statistics. */
export async function splitStatistics(files: VersionFiles): Promise<Record<string, DatasetStatistics>> {
  const bySplit: Record<string, DatasetStatistics> = {};
  for (const [split, path] of Object.entries(files.splits)) bySplit[split] = await computeStatistics(path);
  return bySplit;
}

/** Per-split statistics merged into those of the whole version. */
export function versionStatistics(id: string, bySplit: Record<string, DatasetStatistics>): DatasetStatistics {
  const all = Object.values(bySplit);
  if (all.length === 0) throw new LoomError('FAILED_PRECONDITION', `dataset version ${short(id)} has no splits`, { field: 'version' });
  return all.reduce((a, b) => mergeStatistics(a, b));
}

/** Versions already summarised: id -> per-split statistics. */
export interface VersionStatistics {
  id: string;
  splits: Record<string, DatasetStatistics>;
}

/** The check itself, on statistics already computed (the recorded run keeps the per-split ones). */
export function validateStatistics(request: ValidateStatisticsRequest): VersionValidation {
  const statistics = versionStatistics(request.version.id, request.version.splits);
  const previous = request.against ? versionStatistics(request.against.id, request.against.splits) : undefined;
  const serving = request.serving ? versionStatistics(request.serving.id, request.serving.splits) : undefined;
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
