/**
 * The dashboard's one way to call the platform API: JSON in and out, and a refusal turned
 * into an `ApiError` carrying the server's own message and fix (both the MLflow-shaped and
 * the Loom-shaped error bodies have them), so every page shows what the server said.
 */
import type { DatasetVersion } from '../../../src/queries/views/dataset-versions.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

export const MLFLOW = '/api/2.0/mlflow';
export const LOOM = '/api/loom';

/** GET `path` with `query` (undefined values left out). */
export function get<T>(path: string, query: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  const search = params.size > 0 ? `?${params}` : '';
  return call<T>(`${path}${search}`, { signal });
}

/** POST a JSON body to `path`. */
export function post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return call<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
}

/**
 * The API token the user signed in with, kept for this tab only (sessionStorage: closing the tab
 * signs out, and other sites' scripts cannot read it); sent as `Authorization: Bearer` on every call.
 */
export const session = {
  key: 'loom.token',
  token: (): string | null => sessionStorage.getItem(session.key),
  signIn(token: string): void {
    sessionStorage.setItem(session.key, token);
  },
  signOut(): void {
    sessionStorage.removeItem(session.key);
  },
};

/** Dispatched on `window` when the server answers 401: the app then asks for a token. */
export const UNAUTHENTICATED_EVENT = 'loom:unauthenticated';

async function call<T>(url: string, init: RequestInit): Promise<T> {
  const token = session.token();
  const response = await fetch(url, { ...init, headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers } });
  if (response.status === 401) window.dispatchEvent(new Event(UNAUTHENTICATED_EVENT));
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    throw new ApiError(`the server answered ${response.status} with something that is not JSON`, response.status, 'INTERNAL');
  }
  if (!response.ok) {
    const message = String(body.message ?? body.error ?? `the server answered ${response.status}`);
    throw new ApiError(message, response.status, String(body.error_code ?? 'UNKNOWN'), typeof body.fix === 'string' ? body.fix : undefined);
  }
  return body as T;
}

// The platform API's shapes the pages read (MLflow's REST JSON and Loom's /api/loom). Loom's answers
// are the server's own types, from the Node-free modules of src/queries/views/, re-exported here.
export type { EvaluationDetail, EvaluationSummary, MetricRow, ModelEvaluationView } from '../../../src/queries/views/model-evaluation.js';
export type { DeploymentTraffic, ShadowComparison, ShadowOutput, ShadowResults, TrafficSeries, TrafficWindow } from '../../../src/queries/views/deployment-traffic.js';
export type { CanaryDecisionRecord, DecisionSide } from '../../../src/queries/views/canary-decisions.js';
export type { DatasetModel, DatasetModels } from '../../../src/queries/views/dataset-models.js';
export type { PipelineStepLog as StepLogPage, StepLogLine } from '../../../src/queries/views/step-log.js';
export type { AliasMove } from '../../../src/queries/views/alias-moves.js';
export type { DatasetVersion };
export type { PipelineRunSummary } from '../../../src/queries/views/pipeline-runs.js';
export type { AlertView as AlertRecord, DriftSeries, MonitoringView, QualitySeries, SliceQualityView, SliceSeries } from '../../../src/queries/views/monitoring.js';
export interface KeyValue {
  key: string;
  value: string;
}
export interface Metric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}
export interface Experiment {
  experiment_id: string;
  name: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}
export interface Run {
  info: { run_id: string; experiment_id: string; run_name: string; user_id: string; status: string; start_time: number; end_time?: number; lifecycle_stage: string };
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
}
export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  current_stage: string;
  description: string;
  source: string;
  run_id?: string;
  status: string;
  aliases: string[];
}
export interface RegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  latest_versions?: ModelVersion[];
  aliases?: { alias: string; version: string }[];
}
export interface Artifact {
  id: number;
  typeName: string;
  uri: string;
  properties: Record<string, unknown>;
}
export interface PipelineStep {
  executionId: number;
  step: string;
  component: string;
  state: string;
  attempts: number;
  durationMs: number | null;
  parameters: unknown;
  error: string | null;
  reason: unknown;
  inputs: { name: string; artifact?: Artifact }[];
  outputs: { name: string; artifact?: Artifact }[];
}
export interface Lineage {
  model: { name: string; version: number; ref: string; artifactId: number; uri: string };
  dataSnapshots: { artifactId: number; contentHash: string; source: string; span: string; rowCounts: unknown }[];
  codeVersions: { commit: string | null; dirty: boolean }[];
  executions: { id: number; step: string; component: string; state: string; durationMs: number | null; inputs: string[]; outputs: string[]; runId: string | null }[];
}
export interface Bucket {
  low: number;
  high: number;
  count: number;
}
export interface FeatureStatistics {
  name: string;
  type: string;
  count: number;
  missing: number;
  numeric?: { mean: number; std: number; min: number; max: number; median: number; zeros: number; quantiles: { q: number; value: number }[]; histogram: Bucket[] };
  string?: { unique: number; topValues: { value: string; count: number }[]; avgLength: number };
  timestamp?: { min: string | null; max: string | null };
}
export interface Anomaly {
  type: string;
  feature: string;
  severity: string;
  short: string;
  long: string;
}
export interface DatasetDetail {
  version: DatasetVersion & { columns: { name: string; type: string }[]; files: { path: string; bytes: number }[]; quarantines: { badRows: number; sample: Record<string, unknown>[] }[]; usedBy: { runId: string | null; step: string; executionId: number }[] };
  statistics: { splits: Record<string, { rowCount: number; features: FeatureStatistics[] }>; anomalies: { split?: string; rowCount: number; errorCount: number; warningCount: number; anomalies: Anomaly[] }[] };
}
export interface Deployment {
  id: number;
  modelName: string;
  primary: string;
  canary: { ref: string; weight: number } | null;
  shadow: string | null;
  split: string;
  replacesId: number | null;
  actor: string;
  reason: string;
  createdAt: number;
}
/** Who the API sees (/api/loom/session). */
export interface SessionView {
  subject: string;
  role: string;
  source: string;
  grants: { model: string; actions: string[]; aliases?: string[] }[];
}
/** Drift between two dataset versions (/api/loom/datasets/:version/drift); value null when inconclusive. */
export interface DatasetDrift {
  version: string;
  against: string;
  split: string;
  features: { feature: string; measure: string; value: number | null; threshold: number; exceeded: boolean; statistic?: number; inconclusive?: boolean; note?: string }[];
}
