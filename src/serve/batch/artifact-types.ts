/**
 * The artifact types batch scoring records in lineage, declared like the pipeline's
 * (src/pipeline/artifact-types.ts): name, typed properties, and the files on disk.
 */
import { z } from 'zod';
import { artifactType, prop } from '../../pipeline/artifact-types.js';

/**
 * The output of `loom predict`: the rows live where the user asked (the artifact's URI is
 * `file:///…/x.parquet` or `postgresql://host:port/db?table=…`, never with a password);
 * the fingerprint is the sha256 of the output tensors' bytes in row order.
 */
export const Predictions = artifactType({
  name: 'Predictions',
  description: 'Model outputs for every row of an input, written by a batch scoring job',
  properties: {
    modelName: prop.string(),
    modelVersion: prop.int(),
    rowCount: prop.int(),
    /** The Parquet file or postgres table written. */
    destination: prop.string(),
    /** The written columns: kept input columns, then the model's outputs. */
    columns: prop.json(z.array(z.string())),
  },
  files: {},
});

/**
 * The output of `loom predict --precompute`. Layout: `predictions.sqlite` (table
 * `predictions(key TEXT PRIMARY KEY, outputs TEXT)`, outputs as a JSON object) and
 * `manifest.json` (a `PrecomputedManifest`).
 */
export const PrecomputedPredictions = artifactType({
  name: 'PrecomputedPredictions',
  description: 'Predictions computed ahead for a finite key space, served by key',
  properties: {
    modelName: prop.string(),
    modelVersion: prop.int(),
    /** Key columns in key order. */
    keyColumns: prop.json(z.array(z.string())),
    keyCount: prop.int(),
  },
  // Its two files are named by precomputed-table.ts, the one module that writes and opens them.
  files: {},
});

/**
 * An input read by path rather than produced by a pipeline: recorded so the job's
 * lineage names what it read (the file and its content hash).
 */
export const ExternalDataset = artifactType({
  name: 'ExternalDataset',
  description: 'A data file read by a batch job, identified by its path and content hash',
  properties: { path: prop.string(), format: prop.string() },
  files: {},
});
