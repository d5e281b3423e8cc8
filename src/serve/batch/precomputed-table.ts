/**
 * Reading a precomputed-predictions artifact: its manifest and a prepared-statement
 * lookup into its SQLite file (`predictions(key TEXT PRIMARY KEY, outputs TEXT)`), and
 * finding the newest such artifact for each model in the metadata store. A lookup is one
 * B-tree probe in a read-only file, a few microseconds; memory stays flat however large
 * the key space.
 *
 * Tables follow their source: `refresh()` opens a model's table again when a newer
 * artifact is registered for it (a new `loom predict --precompute`) or its files changed
 * on disk, and swaps it in only once it is open, so the old table answers until then;
 * lookups are synchronous, so no lookup ever straddles a swap.
 *
 * Usage:
 *   const tables = await findPrecomputedTables({ metadata, artifacts });
 *   tables.get('flights')?.lookup('SFO|LAX|8') // '{"probability":0.31}' or undefined
 *   await tables.refresh(); // ['flights'] when its table was replaced
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import type { MetadataStore } from '../../metadata/store.js';
import type { Artifact } from '../../metadata/types.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { PrecomputedPredictions } from './artifact-types.js';

export const PRECOMPUTED_DB_FILE = 'predictions.sqlite';
export const PRECOMPUTED_MANIFEST_FILE = 'manifest.json';

const ManifestSchema = z.object({
  modelName: z.string().min(1),
  modelVersion: z.number().int(),
  /** Key columns in key order: a key is their values joined by `|` (see precomputed-key.ts). */
  keyColumns: z.array(z.string().min(1)).min(1),
  /** Output names, in the order of the signature. */
  outputs: z.array(z.string().min(1)),
  keyCount: z.number().int().min(0),
  /** Input rows without a key (a NULL in a key column), not precomputed. */
  skippedRows: z.number().int().min(0),
  createdAt: z.number().int(),
});
export type PrecomputedManifest = z.infer<typeof ManifestSchema>;

/** One open precomputed table. */
export interface PrecomputedTable {
  manifest: PrecomputedManifest;
  /** The artifact it was read from (its URI), for answers that say where they came from. */
  uri: string;
  /** The files' identity when opened (sizes and modification times): a change means the table was rewritten. */
  stamp: string;
  /** The outputs for `key` as a JSON object text, or undefined when the key was not precomputed. */
  lookup(key: string): string | undefined;
  close(): void;
}

/** Opens the table in an artifact directory, read-only. */
export async function openPrecomputedTable(dir: string, uri: string): Promise<PrecomputedTable> {
  const manifest = parseInput(ManifestSchema, JSON.parse(await readFile(join(dir, PRECOMPUTED_MANIFEST_FILE), 'utf8')), {
    what: `${uri} has no valid ${PRECOMPUTED_MANIFEST_FILE}`,
    code: 'FAILED_PRECONDITION',
    fix: 'recompute it with `loom predict --precompute`',
  });
  const stamp = await filesStamp(dir);
  const db = new Database(join(dir, PRECOMPUTED_DB_FILE), { readonly: true, fileMustExist: true });
  const statement = db.prepare<[string], { outputs: string }>('SELECT outputs FROM predictions WHERE key = ?');
  return {
    manifest,
    uri,
    stamp,
    lookup: (key) => statement.get(key)?.outputs,
    close: () => db.close(),
  };
}

/** The open tables, one per model name (the newest precomputed artifact of each). */
export interface PrecomputedTables {
  get(modelName: string): PrecomputedTable | undefined;
  names(): string[];
  /**
   * Looks for newer artifacts and changed files; opens each changed table and swaps it in
   * (the old one answers until then, and is closed after). A table that fails to open
   * leaves the old one serving and is reported in `failures`. Returns the models reloaded.
   */
  refresh(): Promise<{ reloaded: string[]; failures: { model: string; error: Error }[] }>;
  close(): void;
}

interface Source {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  models?: readonly string[];
}

/**
 * Finds the newest LIVE `PrecomputedPredictions` artifact of each model (of `models`, or
 * of every model that has one) and opens it.
 */
export async function findPrecomputedTables(options: Source): Promise<PrecomputedTables> {
  const tables = new Map<string, { table: PrecomputedTable; artifactId: number }>();
  try {
    for (const [name, artifact] of await newestArtifacts(options)) {
      const dir = await options.artifacts.localPath(artifact.uri);
      tables.set(name, { table: await openPrecomputedTable(dir, artifact.uri), artifactId: artifact.id });
    }
  } catch (error) {
    for (const entry of tables.values()) entry.table.close();
    throw error;
  }
  let refreshing: ReturnType<PrecomputedTables['refresh']> | undefined;
  let closed = false;
  const refresh = async (): ReturnType<PrecomputedTables['refresh']> => {
    const reloaded: string[] = [];
    const failures: { model: string; error: Error }[] = [];
    const newest = await newestArtifacts(options);
    for (const [name, artifact] of newest) {
      const current = tables.get(name);
      try {
        const dir = await options.artifacts.localPath(artifact.uri);
        if (current && current.artifactId === artifact.id && current.table.stamp === (await filesStamp(dir))) continue;
        const table = await openPrecomputedTable(dir, artifact.uri);
        if (closed) {
          table.close();
          break;
        }
        // The swap is one synchronous step; the old table is closed only after it.
        tables.set(name, { table, artifactId: artifact.id });
        current?.table.close();
        reloaded.push(name);
      } catch (error) {
        failures.push({ model: name, error: error as Error });
      }
    }
    // A model whose artifacts were all deleted has no table any more.
    for (const [name, entry] of tables) {
      if (!newest.has(name) && !closed) {
        tables.delete(name);
        entry.table.close();
        reloaded.push(name);
      }
    }
    return { reloaded, failures };
  };
  return {
    get: (name) => tables.get(name)?.table,
    names: () => [...tables.keys()],
    refresh: () => (refreshing ??= refresh().finally(() => (refreshing = undefined))),
    close() {
      closed = true;
      for (const entry of tables.values()) entry.table.close();
      tables.clear();
    },
  };
}

async function newestArtifacts(options: Source): Promise<Map<string, Artifact>> {
  const newest = new Map<string, Artifact>();
  let pageToken: string | undefined;
  do {
    const page = await options.metadata.listArtifacts({ typeName: PrecomputedPredictions.name, pageSize: 500, pageToken });
    for (const artifact of page.items) {
      const name = artifact.properties.modelName;
      if (artifact.state !== 'LIVE' || typeof name !== 'string') continue;
      if (options.models && !options.models.includes(name)) continue;
      const seen = newest.get(name);
      if (!seen || artifact.id > seen.id) newest.set(name, artifact);
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return newest;
}

/** Sizes and modification times of a table's two files. */
async function filesStamp(dir: string): Promise<string> {
  const parts = await Promise.all([PRECOMPUTED_MANIFEST_FILE, PRECOMPUTED_DB_FILE].map(async (file) => {
    const info = await stat(join(dir, file));
    return `${info.size}:${info.mtimeMs}`;
  }));
  return parts.join('/');
}
