/**
 * A typed client of `loom server`'s Loom API (`/api/loom/...`), for Node 20 and browsers
 * alike: it uses the global `fetch` only. Request types are the inputs of the zod schemas the
 * routes validate with (server/routes/loom-api.ts), answer types the query layer's own, so a
 * change to either is a type error here. A bearer token is sent when given; a refusal
 * raises `LoomClientError`, a `LoomError` carrying the server's code, message and fix.
 * MLflow's REST paths are reached with `request` (or with MLflow's own clients).
 *
 * Usage:
 *   const loom = new LoomClient({ baseUrl: 'http://127.0.0.1:5000', token: process.env.LOOM_TOKEN });
 *   const { runs } = await loom.pipelineRuns({ state: 'COMPLETE' });
 */
import type { z } from 'zod';
import type { DatasetVersionStatistics } from '../queries/dataset-statistics.js';
import type { DatasetVersion, DatasetVersionDetail } from '../queries/dataset-versions.js';
import type { ModelLineage } from '../queries/lineage.js';
import type { MetricHistoryColumns } from '../queries/metric-history.js';
import type { PipelineRunStep, PipelineRunSummary } from '../queries/pipeline-runs.js';
import type { PipelineStepLog } from '../queries/step-log.js';
import type { Deployment } from '../registry/deployment-store.js';
import type { AliasMove } from '../registry/types.js';
import type { datasetsQuery, lineageQuery, metricHistoryQuery, runsQuery, stepLogQuery } from '../server/routes/loom-api.js';
import { errorOfAnswer, LoomClientError } from './errors.js';

/** A query schema's input; the numbers the server coerces from text (zod's `unknown` input) are numbers here. */
type QueryInput<S extends z.ZodType> = { [K in keyof z.input<S>]: unknown extends z.input<S>[K] ? number : z.input<S>[K] };

/** What `pipelineRuns` filters and pages by (`max_results`, `page_token`, `pipeline`, `state`). */
export type PipelineRunsQuery = QueryInput<typeof runsQuery>;
export type DatasetsQuery = QueryInput<typeof datasetsQuery>;
export type MetricHistoryQuery = QueryInput<typeof metricHistoryQuery>;
export type LineageQuery = QueryInput<typeof lineageQuery>;
/** What `pipelineStepLog` pages by (`after`, `max_lines`). */
export type StepLogQuery = QueryInput<typeof stepLogQuery>;

export interface PipelineRunsPage {
  runs: PipelineRunSummary[];
  next_page_token?: string;
}
export interface PipelineRunDetail {
  run: PipelineRunSummary;
  steps: PipelineRunStep[];
}
export interface DatasetVersionsPage {
  versions: DatasetVersion[];
  next_page_token?: string;
}
export interface DatasetVersionAnswer {
  version: DatasetVersionDetail;
  statistics: DatasetVersionStatistics;
}

export interface LoomClientOptions {
  /** Where `loom server` answers: `http://127.0.0.1:5000` (a path prefix is kept). */
  baseUrl: string;
  /** A Loom API token or an OIDC JWT, sent as `Authorization: Bearer`. */
  token?: string;
  /** Headers sent with every request (`x-loom-actor` on an open loopback server). */
  headers?: Record<string, string>;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
}

type QueryValues = Record<string, string | number | boolean | undefined>;

export class LoomClient {
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly fetcher: typeof fetch;

  constructor(options: LoomClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = { accept: 'application/json', ...options.headers, ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
    // Bound: a browser's fetch refuses to be called as a method of another object.
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Pipeline runs, newest first; filter by `pipeline` and `state`, page with `page_token`. */
  pipelineRuns(query: PipelineRunsQuery = {}): Promise<PipelineRunsPage> {
    return this.request('GET', '/api/loom/pipeline-runs', { query });
  }

  /** A pipeline run with its steps, their artifacts, parameters and errors. */
  pipelineRun(runId: string): Promise<PipelineRunDetail> {
    return this.request('GET', `/api/loom/pipeline-runs/${segment(runId)}`);
  }

  /** A step's log lines after line `after` (its `seq`), oldest first, with the step's state. */
  pipelineStepLog(runId: string, step: string, query: StepLogQuery = {}): Promise<PipelineStepLog> {
    return this.request('GET', `/api/loom/pipeline-runs/${segment(runId)}/steps/${segment(step)}/log`, { query });
  }

  /** A tracking run's metric as columns, downsampled on the server to `max_points` (0: every point). */
  metricHistory(runId: string, query: MetricHistoryQuery): Promise<MetricHistoryColumns> {
    return this.request('GET', `/api/loom/runs/${segment(runId)}/metric-history`, { query });
  }

  /** Dataset versions; filter by `source`, page with `page_token`. */
  datasetVersions(query: DatasetsQuery = {}): Promise<DatasetVersionsPage> {
    return this.request('GET', '/api/loom/datasets', { query });
  }

  /** A dataset version (its hash, or a prefix of it) with statistics and anomalies per split. */
  datasetVersion(version: string): Promise<DatasetVersionAnswer> {
    return this.request('GET', `/api/loom/datasets/${segment(version)}`);
  }

  /** A model version's lineage (`version`: a number or an alias). */
  lineage(model: string, query: LineageQuery): Promise<ModelLineage> {
    return this.request('GET', `/api/loom/models/${segment(model)}/lineage`, { query });
  }

  /** An alias's moves, newest first. */
  aliasHistory(model: string, alias: string): Promise<{ moves: AliasMove[] }> {
    return this.request('GET', `/api/loom/models/${segment(model)}/aliases/${segment(alias)}/history`);
  }

  /** Moves an alias back to the version it pointed at before (recorded as the token's principal). */
  rollbackAlias(model: string, alias: string): Promise<{ move: AliasMove }> {
    return this.request('POST', `/api/loom/models/${segment(model)}/aliases/${segment(alias)}/rollback`);
  }

  /** The current deployments. */
  deployments(): Promise<{ deployments: Deployment[] }> {
    return this.request('GET', '/api/loom/deployments');
  }

  /** A deployment's history, newest first. */
  deploymentHistory(name: string): Promise<{ deployments: Deployment[] }> {
    return this.request('GET', `/api/loom/deployments/${segment(name)}/history`);
  }

  /**
   * Any route of the server (`/api/2.0/mlflow/runs/search`, ...): JSON in and out, the same
   * token and errors. `/openapi.json` lists the routes and their request schemas.
   */
  async request<T>(method: string, path: string, options: { query?: QueryValues; body?: unknown } = {}): Promise<T> {
    const url = `${this.baseUrl}${path}${searchOf(options.query)}`;
    const headers = options.body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' };
    let response: Response;
    try {
      response = await this.fetcher(url, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    } catch (error) {
      throw new LoomClientError('UNAVAILABLE', `no answer from ${this.baseUrl}: ${(error as Error).message}`, { status: 0, fix: 'check that `loom server` is running there and reachable' });
    }
    const requestId = response.headers.get('x-request-id') ?? undefined;
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      if (!response.ok) throw errorOfAnswer(response.status, { message: text.slice(0, 200) }, requestId);
      throw new LoomClientError('INTERNAL', `${method} ${path} answered ${response.status} with something that is not JSON`, { status: response.status, requestId, fix: 'check that baseUrl is a Loom server' });
    }
    if (!response.ok) throw errorOfAnswer(response.status, body, requestId);
    return body as T;
  }
}

/** A path segment, encoded (names and aliases may hold any character). */
const segment = (value: string) => encodeURIComponent(value);

function searchOf(query: QueryValues | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
