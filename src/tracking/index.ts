/**
 * Experiment tracking (MLflow's model): experiments, runs, params, metrics with steps,
 * tags, nested runs and artifacts, on the shared Loom database (`db.tracking`), served on
 * MLflow's REST paths by `server/routes/tracking.ts`, and followed from the terminal with
 * `loom track`. Pipeline steps log live metrics through the narrow `TrackingLogger`.
 */
export type { TrackingStore } from './store.js';
export type { MetricColumns } from './metric-columns.js';
export { KyselyTrackingStore } from './kysely-tracking-store.js';
export * from './types.js';
export { logMetric, logParam, setTag, recordLoggedModel, LOGGED_MODELS_HISTORY_TAG } from './log.js';
export { parseFilter, parseOrderBy, type FilterClause, type OrderClause } from './filter.js';
export { compareRuns, type RunComparison } from './compare.js';
export { sparkline } from './sparkline.js';
export { watchRun, type WatchUpdate } from './watch.js';
export { StepTrackingLogger, experimentIdFor, type TrackingLogger, EXECUTION_TAG, PIPELINE_RUN_TAG, PIPELINE_TAG, STEP_TAG } from './logger.js';
export { RunArtifactFiles, mlflowArtifactsPath } from './artifact-files.js';
export * from './logged-model-types.js';
export { toMlflowRun, toMlflowExperiment, toMlflowMetric, toMlflowRunInfo } from './mlflow-json.js';
