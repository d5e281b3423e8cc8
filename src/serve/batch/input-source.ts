/**
 * What a batch job reads: a file path (Parquet, CSV or NDJSON, or a glob of them) or a
 * dataset version recorded in the metadata store (`artifact:<id>` of an Examples
 * artifact, every split or `--split`). Both become a DuckDB table expression plus what
 * lineage records about it.
 *
 * Usage: `const input = await resolveBatchInput('data/flights.parquet', { metadata, artifacts });`
 */
import { resolve } from 'node:path';
import { LoomError } from '../../core/errors.js';
import { filesFingerprint } from '../../data/file-fingerprint.js';
import { readSource, sqlString } from '../../data/duckdb.js';
import type { MetadataStore } from '../../metadata/store.js';
import type { NewArtifact } from '../../metadata/types.js';
import { Examples } from '../../pipeline/artifact-types.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { ExternalDataset } from './artifact-types.js';

export interface BatchInput {
  /** A DuckDB table expression, e.g. `read_parquet('…')`. */
  source: string;
  /** For messages: the path or `artifact:<id> (Examples, split eval)`. */
  description: string;
  /** An artifact already in the metadata store, or one to record for a file read by path. */
  lineage: { artifactId: number } | { artifact: NewArtifact };
}

const ARTIFACT_REF = /^artifact:(\d+)$/;

export async function resolveBatchInput(
  input: string,
  services: { metadata: MetadataStore; artifacts: ArtifactStore },
  options: { split?: string } = {},
): Promise<BatchInput> {
  const match = ARTIFACT_REF.exec(input);
  if (!match) {
    if (options.split) throw new LoomError('INVALID_ARGUMENT', '--split applies to a dataset version (artifact:<id>), not a file', { field: '--split' });
    const path = resolve(input);
    const source = readSource(path);
    const format = path.toLowerCase().endsWith('.parquet') ? 'parquet' : path.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson';
    return {
      source,
      description: path,
      lineage: {
        artifact: { typeName: ExternalDataset.name, uri: `file://${path}`, fingerprint: await filesFingerprint(path), properties: { path, format } },
      },
    };
  }
  const id = Number(match[1]);
  const [artifact] = await services.metadata.getArtifacts([id]);
  if (!artifact) {
    throw new LoomError('NOT_FOUND', `no artifact with id ${id}`, { field: '--input', fix: 'run `loom lineage <model>` to see artifact ids' });
  }
  if (artifact.typeName !== Examples.name) {
    throw new LoomError('INVALID_ARGUMENT', `artifact ${id} is ${artifact.typeName}, not ${Examples.name}`, {
      field: '--input',
      fix: 'give a dataset version (an Examples artifact) or a Parquet, CSV or NDJSON file',
    });
  }
  const splits = Array.isArray(artifact.properties.splits) ? (artifact.properties.splits as string[]) : [];
  if (options.split && !splits.includes(options.split)) {
    throw new LoomError('INVALID_ARGUMENT', `artifact ${id} has no split "${options.split}" (splits: ${splits.join(', ')})`, { field: '--split' });
  }
  const dir = await services.artifacts.localPath(artifact.uri);
  const chosen = options.split ? [options.split] : splits;
  const files = chosen.map((split) => sqlString(Examples.files.split(dir, split)));
  return {
    source: `read_parquet([${files.join(', ')}])`,
    description: `artifact:${id} (${Examples.name}, ${options.split ? `split ${options.split}` : `splits ${chosen.join(', ')}`})`,
    lineage: { artifactId: id },
  };
}
