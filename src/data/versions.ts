/**
 * Dataset versions: the `Examples` artifacts in the metadata store, one per content hash.
 * A version's files live in the content-addressed artifact store, so reading a version
 * always returns the same rows. This module finds a version and its files; the read
 * models that list and describe versions are in `queries/dataset-versions.ts`.
 *
 * Usage: `const artifact = await findDatasetVersion(db, '3fa9c1')` (a prefix of the hash)
 */
import { LoomError } from '../core/errors.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Artifact } from '../metadata/types.js';
import { Examples } from '../pipeline/artifact-types.js';
import type { ArtifactStore } from '../store/artifact-store.js';

/** The Examples artifacts of each content hash, oldest first: equal content is one version, made by the first. */
export async function versionGroups(db: { metadata: MetadataStore }): Promise<Map<string, Artifact[]>> {
  const groups = new Map<string, Artifact[]>();
  let pageToken: string | undefined;
  do {
    const page = await db.metadata.listArtifacts({ typeName: 'Examples', pageSize: 1000, pageToken });
    for (const artifact of page.items) {
      const key = versionOf(artifact);
      groups.set(key, [...(groups.get(key) ?? []), artifact]);
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  for (const group of groups.values()) group.sort((a, b) => a.id - b.id);
  return groups;
}

/** The first-made Examples artifact of each content hash. */
export async function versionArtifacts(db: { metadata: MetadataStore }): Promise<Artifact[]> {
  return [...(await versionGroups(db)).values()].map((group) => group[0]!);
}

/**
 * The Examples artifact of one version, by its hash or a unique prefix of it (at least 4
 * characters). Cheap: it reads artifact rows only (no lineage, runs or files), for
 * commands that go on to read the version's data.
 */
export async function findDatasetVersion(db: { metadata: MetadataStore }, prefix: string): Promise<Artifact> {
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
export async function datasetVersionFiles(artifacts: ArtifactStore, artifact: Pick<Artifact, 'uri' | 'properties' | 'fingerprint'>): Promise<{ id: string; splits: Record<string, string> }> {
  const path = await artifacts.localPath(artifact.uri);
  const splits = Array.isArray(artifact.properties.splits) ? (artifact.properties.splits as string[]) : Object.keys((artifact.properties.rowCounts ?? {}) as object);
  return { id: versionOf(artifact), splits: Object.fromEntries(splits.map((split) => [split, Examples.files.split(path, split)])) };
}

/** A dataset version's id: its content hash, or the artifact's fingerprint when it has none. */
export function versionOf(artifact: Pick<Artifact, 'properties' | 'fingerprint'>): string {
  const hash = artifact.properties.contentHash;
  return typeof hash === 'string' && hash !== '' ? hash : artifact.fingerprint;
}

