/**
 * Reading a precomputed-predictions artifact: its manifest and a prepared-statement
 * lookup into its SQLite file (`predictions(key TEXT PRIMARY KEY, outputs TEXT)`), and
 * finding the newest such artifact for each model in the metadata store. A lookup is one
 * B-tree probe in a read-only file, a few microseconds; memory stays flat however large
 * the key space.
 *
 * Usage:
 *   const tables = await findPrecomputedTables({ metadata, artifacts });
 *   tables.get('flights')?.lookup('SFO|LAX|8') // '{"probability":0.31}' or undefined
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
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
  /** The outputs for `key` as a JSON object text, or undefined when the key was not precomputed. */
  lookup(key: string): string | undefined;
  close(): void;
}

/** Opens the table in an artifact directory, read-only. */
export async function openPrecomputedTable(dir: string, uri: string): Promise<PrecomputedTable> {
  const parsed = ManifestSchema.safeParse(JSON.parse(await readFile(join(dir, PRECOMPUTED_MANIFEST_FILE), 'utf8')));
  if (!parsed.success) {
    throw new LoomError('FAILED_PRECONDITION', `${uri} has no valid ${PRECOMPUTED_MANIFEST_FILE}: ${parsed.error.issues[0]?.message}`, {
      fix: 'recompute it with `loom predict --precompute`',
    });
  }
  const db = new Database(join(dir, PRECOMPUTED_DB_FILE), { readonly: true, fileMustExist: true });
  const statement = db.prepare<[string], { outputs: string }>('SELECT outputs FROM predictions WHERE key = ?');
  return {
    manifest: parsed.data,
    uri,
    lookup: (key) => statement.get(key)?.outputs,
    close: () => db.close(),
  };
}

/** The open tables, one per model name (the newest precomputed artifact of each). */
export interface PrecomputedTables {
  get(modelName: string): PrecomputedTable | undefined;
  names(): string[];
  close(): void;
}

/**
 * Finds the newest LIVE `PrecomputedPredictions` artifact of each model (of `models`, or
 * of every model that has one) and opens it.
 */
export async function findPrecomputedTables(options: {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  models?: readonly string[];
}): Promise<PrecomputedTables> {
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
  const tables = new Map<string, PrecomputedTable>();
  try {
    for (const [name, artifact] of newest) {
      tables.set(name, await openPrecomputedTable(await options.artifacts.localPath(artifact.uri), artifact.uri));
    }
  } catch (error) {
    for (const table of tables.values()) table.close();
    throw error;
  }
  return {
    get: (name) => tables.get(name),
    names: () => [...tables.keys()],
    close() {
      for (const table of tables.values()) table.close();
      tables.clear();
    },
  };
}
