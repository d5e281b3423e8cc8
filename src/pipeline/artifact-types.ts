/**
 * Every artifact type Loom's components exchange, declared once (TFX's
 * `standard_artifacts.py`): its name, a zod schema of its properties (recorded in the
 * metadata store, checked when a step publishes), and accessors for its files. Nothing
 * else spells an artifact's file names: code reads `ServingModel.files.model(dir)`, never
 * `join(dir, 'model.onnx')`. Paths are relative to the artifact's directory.
 *
 * Usage: `const parquet = Examples.files.split(inputs.examples.path, 'train');`
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { JsonObject } from '../core/json.js';
import type { PropertyKind } from '../metadata/types.js';

/** One declared property: how the metadata store keeps it, and what it must hold. */
export interface PropertyDef<S extends z.ZodType = z.ZodType> {
  kind: PropertyKind;
  schema: S;
}

/** What the metadata store and the runner need of an artifact type. */
export interface ArtifactTypeDef {
  name: string;
  description: string;
  /** Property name → the kind the metadata store keeps it as. */
  properties: Record<string, PropertyKind>;
  /** The properties an artifact of this type carries; an executor's are checked against it at publish. */
  schema: z.ZodType<JsonObject, JsonObject>;
}

/** An artifact type with its typed properties and file accessors. */
export type ArtifactType<Props extends Record<string, PropertyDef>, Files> = ArtifactTypeDef & {
  schema: z.ZodObject<{ [K in keyof Props]: Props[K]['schema'] }>;
  files: Files;
};

/** The properties an executor returns for an output of this type. */
export type PropertiesOf<T extends ArtifactTypeDef> = z.input<T['schema']>;

/** Property constructors: the kind follows from the constructor, the schema narrows it. */
export const prop = {
  string: <S extends z.ZodType<string> = z.ZodString>(schema?: S) => ({ kind: 'STRING' as const, schema: (schema ?? z.string()) as S }),
  int: () => ({ kind: 'INT' as const, schema: z.number().int() }),
  double: () => ({ kind: 'DOUBLE' as const, schema: z.number() }),
  bool: () => ({ kind: 'BOOL' as const, schema: z.boolean() }),
  json: <S extends z.ZodType>(schema: S) => ({ kind: 'JSON' as const, schema }),
  /** A property an artifact may leave out. */
  optional: <P extends PropertyDef>(property: P) => ({ kind: property.kind as P['kind'], schema: property.schema.optional() as z.ZodOptional<P['schema']> }),
};

/** Declares a type; properties marked optional in their schema may be left out (MLMD's can_omit_fields). */
export function artifactType<const Props extends Record<string, PropertyDef>, Files>(def: {
  name: string;
  description: string;
  properties: Props;
  files: Files;
}): ArtifactType<Props, Files> {
  const kinds = Object.fromEntries(Object.entries(def.properties).map(([name, p]) => [name, p.kind])) as Record<string, PropertyKind>;
  const shape = Object.fromEntries(Object.entries(def.properties).map(([name, p]) => [name, p.schema])) as { [K in keyof Props]: Props[K]['schema'] };
  return { name: def.name, description: def.description, properties: kinds, schema: z.strictObject(shape) as never, files: def.files };
}

/** The part of a type the metadata store registers. */
export function typeRecord(type: ArtifactTypeDef): { name: string; description: string; properties: Record<string, PropertyKind> } {
  return { name: type.name, description: type.description, properties: type.properties };
}

const splitName = z.string().regex(/^[A-Za-z0-9_-]+$/);
const rowCounts = z.record(z.string(), z.number().int().min(0));
const tensorSpec = z.object({ name: z.string(), type: z.string(), shape: z.array(z.union([z.number(), z.string(), z.null()])) }).passthrough();
const metrics = z.record(z.string(), z.number().nullable());

/**
 * Layout: `<split>/data.parquet` for each split (`train`, `eval`), rows sorted by every
 * column; `quarantine/rejects.ndjson` ({file, line, reason, message, raw} per bad row, the
 * first N) when the source had bad rows.
 */
export const Examples = artifactType({
  name: 'Examples',
  description: 'A versioned snapshot of one span of rows, split for training and evaluation',
  properties: {
    splits: prop.json(z.array(splitName).min(1)),
    rowCounts: prop.json(rowCounts),
    /** DuckDB type names. */
    columns: prop.json(z.array(z.object({ name: z.string(), type: z.string() }))),
    /** The path, glob, or PostgreSQL URL (no password) with table or query. */
    source: prop.string(),
    sourceKind: prop.string(z.enum(['csv', 'parquet', 'ndjson', 'postgres'])),
    /** The files read, absolute. */
    files: prop.json(z.array(z.string())),
    /** The span number (TFX's span): from a {SPAN} glob, a date bucket (YYYYMM), or given. */
    span: prop.int(),
    /** First..last day of the time column, e.g. "2001-01-01..2001-02-28"; '' without one. */
    timeRange: prop.optional(prop.string()),
    /** sha256 of the split files: the dataset version. */
    contentHash: prop.string(),
    /** Rows quarantined. */
    badRows: prop.optional(prop.int()),
    /** A `QuarantineSummary` (src/data/quarantine.ts). */
    quarantine: prop.optional(
      prop.json(z.object({ badRows: z.number(), rowsRead: z.number(), badRowFraction: z.number(), byReason: z.record(z.string(), z.number()), sampleRows: z.number(), file: z.string().nullable() })),
    ),
  },
  files: {
    split: (dir: string, split: string) => join(dir, split, 'data.parquet'),
    rejects: (dir: string) => join(dir, 'quarantine', 'rejects.ndjson'),
  },
});

/** Layout: `<split>.json` holding a `DatasetStatistics` (src/validate/statistics.ts) per split. */
export const ExampleStatistics = artifactType({
  name: 'ExampleStatistics',
  description: 'Per-feature statistics of each split',
  properties: { splits: prop.json(z.array(splitName).min(1)), rowCounts: prop.json(rowCounts) },
  files: { split: (dir: string, split: string) => join(dir, `${split}.json`) },
});

/** Layout: `schema.json` holding a `Schema` (src/validate/schema.ts). */
export const Schema = artifactType({
  name: 'Schema',
  description: 'Expected features, their types, presence and domains',
  properties: { origin: prop.string(z.enum(['user', 'inferred'])), path: prop.string(), featureCount: prop.int() },
  files: { schema: (dir: string) => join(dir, 'schema.json') },
});

/**
 * Layout: `anomalies.json` holding an `AnomalyReports` (src/validate/anomaly-reports.ts):
 * one `AnomalyReport` per split a pipeline's validate step checked, or one for the whole
 * version that `loom data validate` checked.
 */
export const ExampleAnomalies = artifactType({
  name: 'ExampleAnomalies',
  description: 'Anomalies found in each split against the schema',
  properties: { errorCount: prop.int(), warningCount: prop.int() },
  files: { anomalies: (dir: string) => join(dir, 'anomalies.json') },
});

/**
 * Layout: `transform.onnx` (raw features in, one float32 tensor `features` [N, width] out)
 * and `transform.json` (the fitted analyzers and the name of each output column).
 */
export const TransformGraph = artifactType({
  name: 'TransformGraph',
  description: 'The fitted feature transform as an ONNX graph',
  properties: {
    inputs: prop.json(z.array(tensorSpec)),
    outputWidth: prop.int(),
    featureNames: prop.json(z.array(z.string())),
    labelColumn: prop.string(),
  },
  files: { graph: (dir: string) => join(dir, 'transform.onnx'), fitted: (dir: string) => join(dir, 'transform.json') },
});

/**
 * Layout: `<split>/features.f32` (row-major little-endian float32, rows x width),
 * `<split>/labels.f32` (float32 per row) and `meta.json` ({ width, rowCounts, featureNames }).
 */
export const TransformedExamples = artifactType({
  name: 'TransformedExamples',
  description: 'Rows after the transform graph, ready for a trainer',
  properties: { width: prop.int(), rowCounts: prop.json(rowCounts) },
  files: { meta: (dir: string) => join(dir, 'meta.json'), splitDir: (dir: string, split: string) => join(dir, split) },
});

/** Layout: `model.onnx` (input `features` float32 [N, width], output `probability` float32 [N, 1]). */
export const Model = artifactType({
  name: 'Model',
  description: 'A trained model over transformed features',
  properties: {
    /** logistic_regression | gbdt | mlp | custom, or the tuned trainer. */
    algorithm: prop.string(),
    inputWidth: prop.optional(prop.int()),
    /** Training loss per epoch or round, when the trainer reports one. */
    lossPerEpoch: prop.optional(prop.json(z.array(z.number()))),
    hyperparameters: prop.json(z.record(z.string(), z.unknown())),
    /** completed | early_stopping | patience | no_split */
    stoppedBecause: prop.optional(prop.string()),
    /** The trainer's own record: rounds kept, hold-out losses, seconds per epoch. */
    training: prop.optional(prop.json(z.record(z.string(), z.unknown()))),
  },
  files: { model: (dir: string) => join(dir, 'model.onnx') },
});

/** Layout: `hyperparameters.json` ({ trainer, best, fixed, trials: [{ number, params, state, value }] }). */
export const HyperParameters = artifactType({
  name: 'HyperParameters',
  description: "A tuning study's best parameters and its trials",
  properties: {
    trainer: prop.string(),
    best: prop.json(z.record(z.string(), z.unknown())),
    bestValue: prop.double(),
    trials: prop.int(),
    pruned: prop.int(),
    failed: prop.int(),
  },
  files: { study: (dir: string) => join(dir, 'hyperparameters.json') },
});

/**
 * Layout: `model.onnx` (raw features in, `probability` out) and `signature.json` (a
 * `ModelSignature`, src/registry/types.ts): the one signature of a served model, which
 * serving, batch scoring and the registry read. This is what serving and batch scoring load.
 */
export const ServingModel = artifactType({
  name: 'ServingModel',
  description: 'Transform and model composed into one graph over raw features',
  properties: {
    /** Kept by artifacts published before `signature.json` became the one source; no longer written. */
    signature: prop.optional(prop.json(z.unknown())),
    labelColumn: prop.string(),
  },
  files: { model: (dir: string) => join(dir, 'model.onnx'), signature: (dir: string) => join(dir, 'signature.json') },
});

/** Layout: `evaluation.json` (an `EvaluationReport`), `model_card.md` and `model_card.html`. */
export const ModelEvaluation = artifactType({
  name: 'ModelEvaluation',
  description: 'Metrics of a model on the evaluation split, beside its baseline',
  properties: { metrics: prop.json(metrics), baselineMetrics: prop.json(metrics.nullable()), rowCount: prop.int() },
  files: {
    evaluation: (dir: string) => join(dir, 'evaluation.json'),
    cardMarkdown: (dir: string) => join(dir, 'model_card.md'),
    cardHtml: (dir: string) => join(dir, 'model_card.html'),
  },
});

/** Layout: `blessing.json` ({ blessed, reason }). */
export const ModelBlessing = artifactType({
  name: 'ModelBlessing',
  description: 'Whether a model may replace the champion, and why',
  properties: { blessed: prop.bool(), reason: prop.string() },
  files: { blessing: (dir: string) => join(dir, 'blessing.json') },
});

/** Layout: `pushed.json` (a `PushReport`, src/registry/push-component.ts). */
export const PushedModel = artifactType({
  name: 'PushedModel',
  description: 'A model version registered by a pipeline',
  properties: { modelName: prop.string(), version: prop.int(), alias: prop.string() },
  files: { pushed: (dir: string) => join(dir, 'pushed.json') },
});

/** Layout: `alert.json` (the evidence and each action's outcome, src/monitor/alerts/component.ts). */
export const Alert = artifactType({
  name: 'Alert',
  description: 'A fired monitoring alert: the rule, the windows and values that breached it, and what was done',
  properties: {
    rule: prop.string(),
    severity: prop.string(),
    metric: prop.string(),
    modelName: prop.string(),
    modelVersion: prop.int(),
    /** The newest breaching window's end, ms since the epoch: the rule's clock for its cool-down. */
    windowEnd: prop.int(),
    value: prop.double(),
    actions: prop.json(z.array(z.strictObject({ type: z.string(), status: z.enum(['done', 'failed', 'requested']), detail: z.string() }))),
  },
  files: { alert: (dir: string) => join(dir, 'alert.json') },
});

/** Layout: `decision.json` (both sides' online figures, the decision and why, src/monitor/canary-component.ts). */
export const CanaryDecision = artifactType({
  name: 'CanaryDecision',
  description: "A canary's promotion or rollback, decided on its online quality against the primary's over the same window",
  properties: {
    modelName: prop.string(),
    primaryVersion: prop.int(),
    canaryVersion: prop.int(),
    outcome: prop.string(),
    /** measured, estimated or none. */
    basis: prop.string(),
    metric: prop.string(),
    /** The window's bounds, ms since the epoch, [from, to). */
    windowStart: prop.int(),
    windowEnd: prop.int(),
    primaryValue: prop.json(z.number().nullable()),
    canaryValue: prop.json(z.number().nullable()),
    aliasMoved: prop.bool(),
    reason: prop.string(),
  },
  files: { decision: (dir: string) => join(dir, 'decision.json') },
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
  Alert,
  CanaryDecision,
] as const;
