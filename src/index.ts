/**
 * What Loom offers pipeline authors: the DSL, the components of the standard pipeline,
 * the artifact types they exchange, and the error type.
 *
 * Usage (a pipeline file run with `loom run pipeline.ts`):
 *   import { definePipeline, ingestComponent, statisticsComponent } from 'loom-mlops';
 *   export default definePipeline('my-pipeline', (p) => { ... });
 */
export { definePipeline, type Pipeline, type PipelineBuilder, type SpanRef } from './pipeline/dsl.js';
export { defineComponent, type ComponentDef, type ExecutorContext, type ExecutorServices, type ExecutorResult, type InputArtifact } from './pipeline/component.js';
export * as artifactTypes from './pipeline/artifact-types.js';
export { ingestComponent } from './data/component.js';
export { flightsParquetPath } from './data/datasets.js';
export type { IngestRequest as IngestParameters } from './data/ingest.js';
export type { SourceSpec, FileSource, PostgresSource } from './data/source-spec.js';
export { findDatasetVersion } from './data/versions.js';
export { listDatasetVersions, showDatasetVersion, type DatasetVersion, type DatasetVersionDetail } from './queries/dataset-versions.js';
export { duckdbTypeKind, isNumericType, isTimeType, type DuckDBTypeKind } from './data/duckdb-types.js';
export { validateDatasetVersion, type DatasetValidationRequest, type RecordedValidation } from './validate/version-run.js';
export { statisticsComponent, schemaComponent, validateComponent } from './validate/components.js';
export { computeStatistics, statisticsOfRelation, type DatasetStatistics, type FeatureStatistics } from './validate/statistics.js';
export { mergeStatistics } from './validate/merge.js';
export { inferSchema, readSchemaFile, writeSchemaFile, type Schema, type DriftMeasure } from './validate/schema.js';
export { findAnomalies, type Anomaly, type AnomalyReport } from './validate/anomalies.js';
export { compareStatistics, type FeatureComparison } from './validate/drift.js';
export { transformComponent } from './transform/component.js';
export type { TransformConfigInput as TransformParameters } from './transform/config.js';
export { trainComponent, type TrainParameters } from './train/component.js';
export { tuneComponent } from './train/tune-component.js';
export type { TuneParameters } from './train/tune-component.js';
export { composeComponent } from './train/compose-component.js';
export { evaluateComponent } from './evaluate/component.js';
export type { EvaluationConfigInput as EvaluateParameters } from './evaluate/config.js';
export { analyzeModel, type ModelAnalysis } from './evaluate/evaluator.js';
export { pushComponent } from './push/push-component.js';
export type { RegistryStore } from './registry/store.js';
export type { RegisteredModel, ModelVersion, ModelVersionLineage, AliasMove, AliasMoveRequest, VersionUse, Actor } from './registry/types.js';
export { runPipeline, type PipelineRunResult } from './pipeline/orchestrator.js';
export { createStepRunner, type StepRunner, type StepRunnerOptions, type StepOutcome } from './pipeline/step-runner.js';
export { inProcessLauncher, type Launcher, type LaunchRequest } from './pipeline/launcher.js';
export { loadConfig, openPlatform, withPlatform, type LoomConfig, type Platform, type ProjectLayout } from './platform/index.js';
export type { LoomDatabase } from './pipeline/stores.js';
export { LocalArtifactStore } from './store/local-artifact-store.js';
export { startModelServer } from './serve/server.js';
export { batchPredict, type BatchPredictOptions, type BatchPredictResult } from './serve/batch/predict-job.js';
export { precomputePredictions, type PrecomputeOptions } from './serve/batch/precompute.js';
export { LoomError, type ErrorCode } from './core/errors.js';
export * from './client/index.js';
