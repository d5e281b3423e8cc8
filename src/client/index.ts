/**
 * The typed TypeScript client of `loom server` (Node 20 and browsers: global `fetch` only).
 * Also published on its own as `loom-mlops/client`, which pulls in nothing of the server.
 */
export { LoomClient, type DatasetVersionAnswer, type DatasetVersionsPage, type DatasetsQuery, type LineageQuery, type LoomClientOptions, type MetricHistoryQuery, type PipelineRunDetail, type PipelineRunsPage, type PipelineRunsQuery } from './loom-client.js';
export { LoomClientError, loomCodeOf } from './errors.js';
