/**
 * Dataset versions: the `Examples` artifacts in the metadata store, one per content hash.
 * A version's files live in the content-addressed artifact store, so reading a version
 * always returns the same rows. `loom data ls` and `loom data show` print these.
 *
 * Usage: `const version = await showDatasetVersion(db, artifacts, '3fa9c1')` (a prefix of the hash)
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LoomError } from '../core/errors.js';
import type { LoomDatabase } from '../pipeline/stores.js';
import type { Artifact } from '../metadata/types.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { queryRows, sqlString, withDuckDB } from './duckdb.js';
import type { QuarantineSummary } from './quarantine.js';

/** One dataset version as `loom data ls` lists it. */
export interface DatasetVersion {
  /** The content hash of the split files. */
  version: string;
  artifactId: number;
  uri: string;
  span: number | null;
  source: string;
  sourceKind: string | null;
  rowCounts: Record<string, number>;
  badRows: number;
  timeRange: string | null;
  createdAt: number;
  /** The run (and step) whose execution made the version first. */
  madeBy: { runId: string | null; pipeline: string | null; step: string; executionId: number } | null;
}

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
  /** Steps that read this version, to follow lineage further (`loom runs show <runId>`). */
  usedBy: { runId: string | null; step: string; executionId: number }[];
}

/** The first-made Examples artifact of each content hash: equal content is one version. */
async function versionArtifacts(db: LoomDatabase): Promise<Artifact[]> {
  const first = new Map<string, Artifact>();
  let pageToken: string | undefined;
  do {
    const page = await db.metadata.listArtifacts({ typeName: 'Examples', pageSize: 1000, pageToken });
    for (const artifact of page.items) {
      const key = versionOf(artifact);
      if (!first.has(key)) first.set(key, artifact);
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return [...first.values()];
}

/** Every dataset version, newest first. */
export async function listDatasetVersions(db: LoomDatabase): Promise<DatasetVersion[]> {
  // The artifact made first names the run that made the version.
  const chosen = (await versionArtifacts(db)).sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  const makers = await producers(db, chosen.map((a) => a.id));
  return chosen.map((artifact) => toVersion(artifact, makers.get(artifact.id) ?? null));
}

/**
 * The Examples artifact of one version, by its hash or a unique prefix of it (at least 4
 * characters). Cheap: it reads artifact rows only (no lineage, runs or files), for
 * commands that go on to read the version's data.
 */
export async function findDatasetVersion(db: LoomDatabase, prefix: string): Promise<Artifact> {
  const wanted = prefix.toLowerCase();
  if (!/^[0-9a-f]{4,64}$/.test(wanted)) {
    throw new LoomError('INVALID_ARGUMENT', `"${prefix}" is not a dataset version`, { field: 'version', fix: 'give a version hash or its first characters (at least 4) from `loom data ls`' });
  }
  const matches = (await versionArtifacts(db)).filter((a) => versionOf(a).startsWith(wanted));
  if (matches.length === 0) throw new LoomError('NOT_FOUND', `no dataset version starts with "${prefix}"`, { field: 'version', fix: 'list versions with `loom data ls`' });
  if (matches.length > 1) {
    throw new LoomError('INVALID_ARGUMENT', `"${prefix}" matches ${matches.length} dataset versions: ${matches.map((a) => versionOf(a).slice(0, 12)).join(', ')}`, {
      field: 'version',
      fix: 'give more characters of the hash',
    });
  }
  return matches[0]!;
}

/** A version's split files, as `validate/version-report.ts` reads them. */
export async function datasetVersionFiles(artifacts: ArtifactStore, artifact: Artifact): Promise<{ id: string; splits: Record<string, string> }> {
  const path = await artifacts.localPath(artifact.uri);
  const splits = Array.isArray(artifact.properties.splits) ? (artifact.properties.splits as string[]) : Object.keys((artifact.properties.rowCounts ?? {}) as object);
  return { id: versionOf(artifact), splits: Object.fromEntries(splits.map((split) => [split, join(path, split, 'data.parquet')])) };
}

/** One version in full: its maker, files, quarantined rows and the steps that read it. */
export async function showDatasetVersion(db: LoomDatabase, artifacts: ArtifactStore, prefix: string): Promise<DatasetVersionDetail> {
  const artifact = await findDatasetVersion(db, prefix);
  const version = toVersion(artifact, (await producers(db, [artifact.id])).get(artifact.id) ?? null);
  const path = await artifacts.localPath(version.uri);
  const summary = (artifact.properties.quarantine ?? null) as QuarantineSummary | null;
  const quarantine = summary ? { ...summary, sample: summary.file ? await readSample(join(path, summary.file)) : [] } : null;
  const consumers = (await db.metadata.getEvents({ artifactIds: [artifact.id] })).filter((e) => e.type === 'INPUT').map((e) => e.executionId);
  const runs = await runsOf(db, [...new Set(consumers)]);
  return {
    ...version,
    columns: (artifact.properties.columns ?? []) as { name: string; type: string }[],
    sourceFiles: (artifact.properties.files ?? []) as string[],
    files: await listFiles(path),
    path,
    quarantine,
    usedBy: [...runs].map(([executionId, run]) => ({ runId: run.runId, step: run.step, executionId })),
  };
}

function versionOf(artifact: Artifact): string {
  const hash = artifact.properties.contentHash;
  return typeof hash === 'string' && hash !== '' ? hash : artifact.fingerprint;
}

function toVersion(artifact: Artifact, madeBy: DatasetVersion['madeBy']): DatasetVersion {
  const p = artifact.properties;
  return {
    version: versionOf(artifact),
    artifactId: artifact.id,
    uri: artifact.uri,
    span: typeof p.span === 'number' ? p.span : null,
    source: String(p.source ?? ''),
    sourceKind: typeof p.sourceKind === 'string' ? p.sourceKind : null,
    rowCounts: (p.rowCounts ?? {}) as Record<string, number>,
    badRows: typeof p.badRows === 'number' ? p.badRows : 0,
    timeRange: typeof p.timeRange === 'string' ? p.timeRange : null,
    createdAt: artifact.createdAt,
    madeBy,
  };
}

/** The execution that output each artifact first, with its run and pipeline. */
async function producers(db: LoomDatabase, artifactIds: number[]): Promise<Map<number, NonNullable<DatasetVersion['madeBy']>>> {
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

async function runsOf(db: LoomDatabase, executionIds: number[]): Promise<Map<number, { runId: string | null; pipeline: string | null; step: string }>> {
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
