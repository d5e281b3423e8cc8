/**
 * Dataset versions as people look at them: every version with the run that made it
 * (`loom data ls`), and one version in full with its files, quarantined rows and the
 * steps that read it (`loom data show`). Read models over the metadata and artifact
 * stores, shared by the CLI and the HTTP API.
 *
 * Usage: `const detail = await showDatasetVersion(platform, platform.artifacts, '3fa9c1')` (a prefix of the hash)
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import type { QuarantineSummary } from '../data/quarantine.js';
import { findDatasetVersion, versionGroups, versionOf } from '../data/versions.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Artifact } from '../metadata/types.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { DatasetVersion } from './views/dataset-versions.js';

/** The stores these queries read. */
export interface DatasetVersionStores {
  metadata: MetadataStore;
}

// The answer's type lives in views/ (no Node) so the dashboard shares it; re-exported for the server's users.
export type { DatasetVersion } from './views/dataset-versions.js';

/** One version in full, as `loom data show` prints it. */
export interface DatasetVersionDetail extends DatasetVersion {
  columns: { name: string; type: string }[];
  /** Source files read, absolute. */
  sourceFiles: string[];
  /** Files of the version, relative to `path`, with sizes. */
  files: { path: string; bytes: number }[];
  /** The version's directory in the artifact store. */
  path: string;
  quarantine: (QuarantineSummary & { sample: Record<string, unknown>[] }) | null;
  /**
   * Every ingest of this content that quarantined rows, newest first, with its own sample:
   * a re-ingest whose good rows hash to this version keeps its bad rows here.
   */
  quarantines: IngestQuarantine[];
  /** Steps that read this version, to follow lineage further (`loom runs show <runId>`). */
  usedBy: { runId: string | null; step: string; executionId: number }[];
}

/** One ingest's quarantine within a version. */
export interface IngestQuarantine extends QuarantineSummary {
  artifactId: number;
  createdAt: number;
  madeBy: DatasetVersion['madeBy'];
  /** The quarantine file, absolute; null when no row was kept. */
  path: string | null;
  sample: Record<string, unknown>[];
}

/** Every dataset version, newest first. */
export async function listDatasetVersions(db: DatasetVersionStores): Promise<DatasetVersion[]> {
  const groups = await versionGroups(db);
  // The artifact made first names the run that made the version.
  const chosen = [...groups.values()].map((group) => group[0]!).sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  const makers = await producers(db, chosen.map((a) => a.id));
  return chosen.map((artifact) => toVersion(artifact, makers.get(artifact.id) ?? null, groups.get(versionOf(artifact))!));
}

/** One version in full: its maker, files, quarantined rows and the steps that read it. */
export async function showDatasetVersion(db: DatasetVersionStores, artifacts: ArtifactStore, prefix: string): Promise<DatasetVersionDetail> {
  const artifact = await findDatasetVersion(db, prefix);
  const group = (await versionGroups(db)).get(versionOf(artifact))!;
  const makers = await producers(db, group.map((a) => a.id));
  const version = toVersion(artifact, makers.get(artifact.id) ?? null, group);
  const path = await artifacts.localPath(version.uri);
  const summary = (artifact.properties.quarantine ?? null) as QuarantineSummary | null;
  const quarantine = summary ? { ...summary, sample: summary.file ? await readSample(join(path, summary.file)) : [] } : null;
  const quarantines: IngestQuarantine[] = [];
  for (const ingest of [...group].reverse()) {
    const own = (ingest.properties.quarantine ?? null) as QuarantineSummary | null;
    if (!own || own.badRows === 0) continue;
    const file = own.file ? join(await artifacts.localPath(ingest.uri), own.file) : null;
    quarantines.push({ ...own, artifactId: ingest.id, createdAt: ingest.createdAt, madeBy: makers.get(ingest.id) ?? null, path: file, sample: file ? await readSample(file) : [] });
  }
  const consumers = (await db.metadata.getEvents({ artifactIds: [artifact.id] })).filter((e) => e.type === 'INPUT').map((e) => e.executionId);
  const runs = await runsOf(db, [...new Set(consumers)]);
  return {
    ...version,
    columns: (artifact.properties.columns ?? []) as { name: string; type: string }[],
    sourceFiles: (artifact.properties.files ?? []) as string[],
    files: await listFiles(path),
    path,
    quarantine,
    quarantines,
    usedBy: [...runs].map(([executionId, run]) => ({ runId: run.runId, step: run.step, executionId })),
  };
}

function toVersion(artifact: Artifact, madeBy: DatasetVersion['madeBy'], group: Artifact[]): DatasetVersion {
  const p = artifact.properties;
  const newest = group[group.length - 1]!.properties;
  return {
    version: versionOf(artifact),
    artifactId: artifact.id,
    uri: artifact.uri,
    span: typeof p.span === 'number' ? p.span : null,
    source: String(p.source ?? ''),
    sourceKind: typeof p.sourceKind === 'string' ? p.sourceKind : null,
    rowCounts: (p.rowCounts ?? {}) as Record<string, number>,
    badRows: typeof newest.badRows === 'number' ? newest.badRows : 0,
    ingests: group.length,
    timeRange: typeof p.timeRange === 'string' ? p.timeRange : null,
    createdAt: artifact.createdAt,
    madeBy,
  };
}

/** The execution that output each artifact first, with its run and pipeline. */
async function producers(db: DatasetVersionStores, artifactIds: number[]): Promise<Map<number, NonNullable<DatasetVersion['madeBy']>>> {
  if (artifactIds.length === 0) return new Map();
  const events = (await db.metadata.getEvents({ artifactIds })).filter((e) => e.type === 'OUTPUT');
  const firstExecution = new Map<number, number>();
  for (const event of events) if (!firstExecution.has(event.artifactId)) firstExecution.set(event.artifactId, event.executionId);
  const runs = await runsOf(db, [...new Set(firstExecution.values())]);
  const made = new Map<number, NonNullable<DatasetVersion['madeBy']>>();
  for (const [artifactId, executionId] of firstExecution) {
    const run = runs.get(executionId);
    made.set(artifactId, { runId: run?.runId ?? null, pipeline: run?.pipeline ?? null, step: run?.step ?? '', executionId });
  }
  return made;
}

async function runsOf(db: DatasetVersionStores, executionIds: number[]): Promise<Map<number, { runId: string | null; pipeline: string | null; step: string }>> {
  const found = await Promise.all(
    executionIds.map(async (id) => {
      const [execution, contexts] = await Promise.all([db.metadata.getExecution(id), db.metadata.getContextsOfExecution(id)]);
      const run = {
        runId: contexts.find((c) => c.typeName === 'pipeline_run')?.name ?? null,
        pipeline: contexts.find((c) => c.typeName === 'pipeline')?.name ?? null,
        step: execution?.stepName ?? '',
      };
      return [id, run] as const;
    }),
  );
  return new Map(found);
}

async function listFiles(root: string, dir = root): Promise<{ path: string; bytes: number }[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: { path: string; bytes: number }[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(root, full)));
    else files.push({ path: relative(root, full), bytes: (await stat(full)).size });
  }
  return files;
}

/** The first quarantined rows, read by DuckDB (the file holds at most the sample size). */
async function readSample(path: string, limit = 20): Promise<Record<string, unknown>[]> {
  return withDuckDB(async (db) =>
    (await queryRows(db, `SELECT file, line::DOUBLE AS line, reason, message, raw FROM read_json(${sqlString(path)}, format = 'newline_delimited') ORDER BY file, line LIMIT ${limit}`)).map((row) => ({
      ...row,
      line: Number(row.line),
    })),
  );
}
