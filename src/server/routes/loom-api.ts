/**
 * Loom's own read API under `/api/loom/`, for what MLflow's REST paths do not cover: pipeline
 * runs with their steps and each step's log (and running one again), a tracking run's metric history as downsampled columns, dataset versions with statistics and anomalies, a model's lineage,
 * alias history (and the alias rollback the CLI offers), and deployments. It serves the
 * dashboard and any client; every route reads through the shared query layer (src/queries/),
 * checks its query string with zod, pages on the server (`max_results`, `page_token`,
 * answering `next_page_token`) and fails through the app's one error handler.
 *
 * Usage: `await app.register(loomApiRoutes, { ...routeOptions, prefix: LOOM_API_PREFIX })` (done by `buildPlatformApp`).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GuardedRegistry } from '../../audit/guarded-registry.js';
import { LoomError } from '../../core/errors.js';
import { EXECUTION_LOG_MAX_PAGE } from '../../metadata/execution-log.js';
import type { ZodTypeProvider } from '../../http/validation.js';
import { originOf } from '../../http/request-log.js';
import { datasetVersionStatistics } from '../../queries/dataset-statistics.js';
import { listDatasetVersions, showDatasetVersion } from '../../queries/dataset-versions.js';
import { modelLineage } from '../../queries/lineage.js';
import { metricHistoryColumns, runMetricHistories } from '../../queries/metric-history.js';
import { listPipelineRuns, showPipelineRun, type PipelineRunSummary } from '../../queries/pipeline-runs.js';
import { pipelineStepLog } from '../../queries/step-log.js';
import type { RegistryStore } from '../../registry/store.js';
import type { PlatformRouteOptions } from '../server.js';

/** Where the Loom API lives; MLflow's paths stay under MLFLOW_PREFIX. */
export const LOOM_API_PREFIX = '/api/loom';

// The query schemas are exported for the TypeScript client (src/client): its request types are their inputs.
const maxResults = z.coerce.number().int().min(1).max(1000).default(50);
const pageQuery = z.object({ max_results: maxResults, page_token: z.string().regex(/^\S+$/).optional() });
export const runsQuery = pageQuery.extend({ pipeline: z.string().min(1).optional(), state: z.string().min(1).optional() });
export const datasetsQuery = pageQuery.extend({ source: z.string().min(1).optional() });
const nameParams = z.object({ name: z.string().min(1) });
const aliasParams = nameParams.extend({ alias: z.string().min(1) });
const runParams = z.object({ runId: z.string().min(1) });
const stepParams = runParams.extend({ stepName: z.string().min(1) });
const versionParams = z.object({ version: z.string().regex(/^[0-9a-f]{4,64}$/, 'must be (a prefix of) a dataset version hash') });
// A chart is at most a few thousand pixels wide: 4,000 points (2,000 min/max buckets) draw it exactly.
export const metricHistoryQuery = z.object({ key: z.string().min(1), max_points: z.coerce.number().int().min(0).max(10_000_000).default(4000) });
export const metricHistoriesQuery = metricHistoryQuery.pick({ max_points: true });
// A live view asks for the lines after the last one it has (`after`: that line's seq).
export const stepLogQuery = z.object({ after: z.coerce.number().int().min(0).default(0), max_lines: z.coerce.number().int().min(1).max(EXECUTION_LOG_MAX_PAGE).default(1000) });
export const lineageQuery = z.object({ version: z.string().regex(/^(\d+|[A-Za-z][\w-]*)$/, 'must be a version number or an alias'), max_hops: z.coerce.number().int().min(1).max(100).default(30) });

/** An offset page token, for lists the query layer returns whole. */
const offsetOf = (token: string | undefined) => {
  if (token === undefined) return 0;
  const offset = Number(token);
  if (!Number.isInteger(offset) || offset < 0) throw new LoomError('INVALID_ARGUMENT', `page_token ${JSON.stringify(token)} is not one this API gave`, { field: 'page_token', fix: 'leave it out to start from the first page' });
  return offset;
};

function pageOf<T>(items: T[], query: { max_results: number; page_token?: string }): { items: T[]; next_page_token?: string } {
  const offset = offsetOf(query.page_token);
  const end = offset + query.max_results;
  return { items: items.slice(offset, end), ...(end < items.length ? { next_page_token: String(end) } : {}) };
}

/** The Loom API plugin; register it under LOOM_API_PREFIX. */
export const loomApiRoutes: FastifyPluginAsync<PlatformRouteOptions> = async (scope, options) => {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const { db, artifacts, security, reruns } = options;
  // Writes go through the request principal's guard (authorized, audited), as on the registry's MLflow routes.
  const guarded = (request: FastifyRequest): RegistryStore => (security ? new GuardedRegistry(db.registry, security.contextFor(request.principal, originOf(request))) : db.registry);
  const tags = ['loom'];

  app.get('/pipeline-runs', { schema: { summary: 'Pipeline runs, newest first, with their state', tags, querystring: runsQuery } }, async (request) => {
    const query = request.query;
    // Filters are applied to store pages until a page is full: the store pages contexts by id only.
    const items: PipelineRunSummary[] = [];
    let token = query.page_token;
    do {
      const page = await listPipelineRuns(db, { limit: query.max_results, pageToken: token });
      items.push(...page.items.filter((r) => (!query.pipeline || r.pipeline === query.pipeline) && (!query.state || r.state === query.state)));
      token = page.nextPageToken;
    } while (token && items.length < query.max_results);
    return { runs: items, ...(token ? { next_page_token: token } : {}) };
  });
  app.get('/pipeline-runs/:runId', { schema: { summary: 'A pipeline run with its steps', tags, params: runParams } }, async (request) => showPipelineRun(db, request.params.runId));
  app.get('/pipeline-runs/:runId/steps/:stepName/log', { schema: { summary: "A step's log lines after line `after`, oldest first, with the step's state", tags, params: stepParams, querystring: stepLogQuery } }, async (request) => {
    const { runId, stepName } = request.params;
    const query = request.query;
    return pipelineStepLog(db, runId, stepName, { after: query.after, limit: query.max_lines });
  });
  // Running a pipeline run again is a change: authorized as a write (editor and up) and recorded in the audit log
  // with the pipeline file it runs, then started as the caller; the answer comes once the new run is recorded.
  app.post('/pipeline-runs/:runId/rerun', { schema: { summary: 'Run a pipeline run again (editor): answers 202 with the new run id', tags, params: runParams } }, async (request, reply) => {
    const { runId } = request.params;
    if (!reruns) throw new LoomError('FAILED_PRECONDITION', 'this server does not run pipelines', { fix: 'start it with `loom server` in the project, or run the pipeline with `loom run <file>`' });
    const context = security?.contextFor(request.principal, originOf(request));
    const started = await reruns.request(runId, context);
    return reply.code(202).send({ runId: started.runId, rerunOf: runId });
  });

  // One metric of a tracking run as columns, downsampled to max_points (0 = every point); JSON has no NaN or Infinity, so those values come as null.
  app.get('/runs/:runId/metric-history', { schema: { summary: "A tracking run's metric history as columns, downsampled", tags, params: runParams, querystring: metricHistoryQuery } }, async (request) => {
    const { runId } = request.params;
    const query = request.query;
    return metricHistoryColumns(db.tracking, runId, query.key, { maxPoints: query.max_points });
  });
  // Every metric of the run at once, so a page can ask for them beside the run instead of after it named the keys.
  app.get('/runs/:runId/metric-histories', { schema: { summary: 'Every metric of a tracking run as downsampled columns, by key', tags, params: runParams, querystring: metricHistoriesQuery } }, async (request) => ({
    metrics: await runMetricHistories(db.tracking, request.params.runId, { maxPoints: request.query.max_points }),
  }));

  app.get('/datasets', { schema: { summary: 'Dataset versions', tags, querystring: datasetsQuery } }, async (request) => {
    const query = request.query;
    const all = (await listDatasetVersions(db)).filter((v) => !query.source || v.source.includes(query.source));
    const page = pageOf(all, query);
    return { versions: page.items, ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
  });
  app.get('/datasets/:version', { schema: { summary: 'A dataset version with its statistics and anomalies', tags, params: versionParams } }, async (request) => {
    const { version } = request.params;
    const [detail, statistics] = await Promise.all([showDatasetVersion(db, artifacts, version), datasetVersionStatistics(db, artifacts, version)]);
    return { version: detail, statistics };
  });

  app.get('/models/:name/lineage', { schema: { summary: "A model version's lineage: data, transform, training, evaluation", tags, params: nameParams, querystring: lineageQuery } }, async (request) => {
    const { name } = request.params;
    const query = request.query;
    return modelLineage(db, `${name}@${query.version}`, query.max_hops);
  });
  app.get('/models/:name/aliases/:alias/history', { schema: { summary: "An alias's moves, newest first", tags, params: aliasParams } }, async (request) => {
    const { name, alias } = request.params;
    if (!(await db.registry.getRegisteredModel(name))) throw new LoomError('NOT_FOUND', `registered model ${JSON.stringify(name)} not found`, { field: 'name' });
    return { moves: await db.registry.aliasHistory(name, alias) };
  });
  app.post('/models/:name/aliases/:alias/rollback', { schema: { summary: 'Move an alias back to the version it pointed at before', tags, params: aliasParams } }, async (request) => {
    const { name, alias } = request.params;
    const move = await guarded(request).rollbackAlias(name, alias, { actor: request.principal.subject, reason: 'through the Loom API' });
    return { move };
  });

  app.get('/deployments', { schema: { summary: 'Current deployments', tags } }, async () => ({ deployments: await db.deployments.listDeployments() }));
  app.get('/deployments/:name/history', { schema: { summary: "A deployment's history, newest first", tags, params: nameParams } }, async (request) => {
    const { name } = request.params;
    return { deployments: await db.deployments.history(name) };
  });
};
