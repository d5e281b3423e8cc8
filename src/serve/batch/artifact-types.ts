/**
 * The artifact types batch scoring records in lineage, declared like the pipeline's
 * (src/pipeline/artifact-types.ts): name, typed properties, and the files on disk.
 */
import type { ArtifactTypeDef } from '../../pipeline/artifact-types.js';

/**
 * The output of `loom predict`: the rows live where the user asked (the artifact's URI is
 * `file:///…/x.parquet` or `postgresql://host:port/db?table=…`, never with a password);
 * the fingerprint is the sha256 of the output tensors' bytes in row order.
 */
export const Predictions = {
  name: 'Predictions',
  description: 'Model outputs for every row of an input, written by a batch scoring job',
  properties: {
    modelName: 'STRING',
    modelVersion: 'INT',
    rowCount: 'INT',
    destination: 'STRING', // the Parquet file or postgres table written
    columns: 'JSON', // { name, type }[] of the written rows
  },
} as const satisfies ArtifactTypeDef;

/**
 * The output of `loom predict --precompute`. Layout: `predictions.sqlite` (table
 * `predictions(key TEXT PRIMARY KEY, outputs TEXT)`, outputs as a JSON object) and
 * `manifest.json` (a `PrecomputedManifest`).
 */
export const PrecomputedPredictions = {
  name: 'PrecomputedPredictions',
  description: 'Predictions computed ahead for a finite key space, served by key',
  properties: {
    modelName: 'STRING',
    modelVersion: 'INT',
    keyColumns: 'JSON', // string[] in key order
    keyCount: 'INT',
  },
} as const satisfies ArtifactTypeDef;

/**
 * An input read by path rather than produced by a pipeline: recorded so the job's
 * lineage names what it read (the file and its content hash).
 */
export const ExternalDataset = {
  name: 'ExternalDataset',
  description: 'A data file read by a batch job, identified by its path and content hash',
  properties: { path: 'STRING', format: 'STRING' },
} as const satisfies ArtifactTypeDef;
