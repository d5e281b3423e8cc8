/**
 * Every artifact type Loom's components exchange, declared once: its name, its typed
 * properties (recorded in the metadata store) and the layout of its files on disk.
 * Paths in the layouts are relative to the artifact's directory.
 */
import type { PropertyKind } from '../metadata/types.js';

export interface ArtifactTypeDef {
  name: string;
  description: string;
  properties: Record<string, PropertyKind>;
}

function artifactType<const T extends ArtifactTypeDef>(def: T): T {
  return def;
}

/**
 * Layout: `<split>/data.parquet` for each split (`train`, `eval`), rows sorted by every
 * column; `quarantine/rejects.ndjson` ({file, line, reason, message, raw} per bad row, the
 * first N) when the source had bad rows.
 */
export const Examples = artifactType({
  name: 'Examples',
  description: 'A versioned snapshot of one span of rows, split for training and evaluation',
  properties: {
    splits: 'JSON', // string[]
    rowCounts: 'JSON', // { [split]: number }
    columns: 'JSON', // { name, type }[] with DuckDB type names
    source: 'STRING', // the path, glob, or PostgreSQL URL (no password) with table or query
    sourceKind: 'STRING', // csv | parquet | ndjson | postgres
    files: 'JSON', // string[]: the files read, absolute
    span: 'INT', // the span number (TFX's span): from a {SPAN} glob, a date bucket (YYYYMM), or given
    timeRange: 'STRING', // first..last day of the time column, e.g. "2001-01-01..2001-02-28"; '' without one
    contentHash: 'STRING', // sha256 of the split files; the dataset version
    badRows: 'INT', // rows quarantined
    quarantine: 'JSON', // QuarantineSummary (src/data/quarantine.ts)
  },
});

/** Layout: `<split>.json` holding a `DatasetStatistics` (src/validate/statistics.ts) per split. */
export const ExampleStatistics = artifactType({
  name: 'ExampleStatistics',
  description: 'Per-feature statistics of each split',
  properties: { splits: 'JSON', rowCounts: 'JSON' },
});

/** Layout: `schema.json` holding a `Schema` (src/validate/schema.ts). */
export const Schema = artifactType({
  name: 'Schema',
  description: 'Expected features, their types, presence and domains',
  properties: { origin: 'STRING', path: 'STRING', featureCount: 'INT' },
});

/** Layout: `anomalies.json` holding an `AnomalyReport` (src/validate/anomalies.ts). */
export const ExampleAnomalies = artifactType({
  name: 'ExampleAnomalies',
  description: 'Anomalies found in each split against the schema',
  properties: { errorCount: 'INT', warningCount: 'INT' },
});

/**
 * Layout: `transform.onnx` (raw features in, one float32 tensor `features` [N, width] out)
 * and `transform.json` (the fitted analyzers and the name of each output column).
 */
export const TransformGraph = artifactType({
  name: 'TransformGraph',
  description: 'The fitted feature transform as an ONNX graph',
  properties: { inputs: 'JSON', outputWidth: 'INT', featureNames: 'JSON', labelColumn: 'STRING' },
});

/**
 * Layout: `<split>/features.f32` (row-major little-endian float32, rows x width),
 * `<split>/labels.f32` (float32 per row) and `meta.json` ({ width, rowCounts, featureNames }).
 */
export const TransformedExamples = artifactType({
  name: 'TransformedExamples',
  description: 'Rows after the transform graph, ready for a trainer',
  properties: { width: 'INT', rowCounts: 'JSON' },
});

/** Layout: `model.onnx` (input `features` float32 [N, width], output `probability` float32 [N, 1]). */
export const Model = artifactType({
  name: 'Model',
  description: 'A trained model over transformed features',
  properties: {
    algorithm: 'STRING', // logistic_regression | gbdt | mlp | custom
    inputWidth: 'INT',
    lossPerEpoch: 'JSON', // number[]: training loss per epoch or round, when the trainer reports one
    hyperparameters: 'JSON',
    stoppedBecause: 'STRING', // completed | early_stopping | patience | no_split
    training: 'JSON', // the trainer's own record: rounds kept, hold-out losses, seconds per epoch
  },
});

/** Layout: `hyperparameters.json` ({ trainer, best, fixed, trials: [{ number, params, state, value }] }). */
export const HyperParameters = artifactType({
  name: 'HyperParameters',
  description: "A tuning study's best parameters and its trials",
  properties: { trainer: 'STRING', best: 'JSON', bestValue: 'DOUBLE', trials: 'INT', pruned: 'INT', failed: 'INT' },
});

/**
 * Layout: `model.onnx` (raw features in, `probability` out) and `signature.json`
 * (a `ModelSignature`, src/registry/types.ts). This is what serving and batch scoring load.
 */
export const ServingModel = artifactType({
  name: 'ServingModel',
  description: 'Transform and model composed into one graph over raw features',
  properties: { signature: 'JSON', labelColumn: 'STRING' },
});

/** Layout: `evaluation.json` ({ metrics, baselineMetrics, split, rowCount }). */
export const ModelEvaluation = artifactType({
  name: 'ModelEvaluation',
  description: 'Metrics of a model on the evaluation split, beside its baseline',
  properties: { metrics: 'JSON', baselineMetrics: 'JSON', rowCount: 'INT' },
});

/** Layout: `blessing.json` ({ blessed, reason }). */
export const ModelBlessing = artifactType({
  name: 'ModelBlessing',
  description: 'Whether a model may replace the champion, and why',
  properties: { blessed: 'BOOL', reason: 'STRING' },
});

/** Layout: `pushed.json` ({ modelName, version, aliasMoved }). */
export const PushedModel = artifactType({
  name: 'PushedModel',
  description: 'A model version registered by a pipeline',
  properties: { modelName: 'STRING', version: 'INT', alias: 'STRING' },
});

export const ARTIFACT_TYPES = [
  Examples,
  ExampleStatistics,
  Schema,
  ExampleAnomalies,
  TransformGraph,
  TransformedExamples,
  Model,
  HyperParameters,
  ServingModel,
  ModelEvaluation,
  ModelBlessing,
  PushedModel,
] as const;
