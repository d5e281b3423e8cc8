/**
 * What a batch job reads: a file path (Parquet, CSV or NDJSON, or a glob of them) or a
 * dataset version recorded in the metadata store (`artifact:<id>` of an Examples
 * artifact, every split or `--split`). The command turns it into the input artifact of its
 * step (`batchInputArtifact`: a file is recorded as an ExternalDataset at its path); the
 * executor turns that artifact into a DuckDB table expression (`batchSource`).
 *
 * Usage:
 *   const examples = await batchInputArtifact('data/flights.parquet', { metadata, artifacts });  // the command
 *   const input = batchSource(parameters.input, inputs.examples, parameters.split);            // the executor
 */
import { resolve } from 'node:path';
import { LoomError } from '../../core/errors.js';
import { filesFingerprint } from '../../data/file-fingerprint.js';
import { readSource, sqlString } from '../../data/duckdb.js';
import type { MetadataStore } from '../../metadata/store.js';
import type { Artifact } from '../../metadata/types.js';
import { Examples, typeRecord } from '../../pipeline/artifact-types.js';
import type { InputArtifact } from '../../pipeline/component.js';
import { ExternalDataset } from './artifact-types.js';

export interface BatchInput {
  /** A DuckDB table expression, e.g. `read_parquet('…')`. */
  source: string;
  /** For messages: the path or `artifact:<id> (Examples, split eval)`. */
  description: string;
}

const ARTIFACT_REF = /^artifact:(\d+)$/;

/** The artifact the job reads, checked and recorded: the Examples named, or the file as a new ExternalDataset. */
export async function batchInputArtifact(input: string, services: { metadata: MetadataStore }, options: { split?: string } = {}): Promise<Artifact> {
  const match = ARTIFACT_REF.exec(input);
  if (!match) {
    if (options.split) throw new LoomError('INVALID_ARGUMENT', '--split applies to a dataset version (artifact:<id>), not a file', { field: '--split' });
    const path = resolve(input);
    const format = path.toLowerCase().endsWith('.parquet') ? 'parquet' : path.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson';
    const fingerprint = await filesFingerprint(path);
    await services.metadata.putArtifactType(typeRecord(ExternalDataset));
    // `file://` + the path as given: the step runner hands an executor that path (a glob stays a glob).
    const [artifact] = await services.metadata.putArtifacts([{ typeName: ExternalDataset.name, uri: `file://${path}`, fingerprint, properties: { path, format } }]);
    return artifact!;
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
  const splits = splitsOf(artifact.properties);
  if (options.split && !splits.includes(options.split)) {
    throw new LoomError('INVALID_ARGUMENT', `artifact ${id} has no split "${options.split}" (splits: ${splits.join(', ')})`, { field: '--split' });
  }
  return artifact;
}

/** The rows of the job's input artifact (`input` as the user gave it says which kind it is). */
export function batchSource(input: string, artifact: InputArtifact, split?: string): BatchInput {
  if (!ARTIFACT_REF.test(input)) return { source: readSource(artifact.path), description: artifact.path };
  const chosen = split ? [split] : splitsOf(artifact.properties);
  const files = chosen.map((name) => sqlString(Examples.files.split(artifact.path, name)));
  return {
    source: `read_parquet([${files.join(', ')}])`,
    description: `artifact:${artifact.id} (${Examples.name}, ${split ? `split ${split}` : `splits ${chosen.join(', ')}`})`,
  };
}

function splitsOf(properties: Artifact['properties']): string[] {
  return Array.isArray(properties.splits) ? (properties.splits as string[]) : [];
}
