/**
 * The tracking API on MLflow's REST paths and field names (`/api/2.0/mlflow/experiments/*`,
 * `runs/*`, `metrics/get-history`, `artifacts/list`) over `db.tracking`, so MLflow clients
 * log to Loom unchanged; MLflow 3's logged models are in `logged-models.ts`. Run artifacts are served by `tracking-artifacts.ts` on MLflow's
 * proxied-artifact paths. Errors are LoomErrors, shaped by the platform's error handler.
 *
 * Usage: `await app.register(trackingRoutes, { db, artifacts })` (done by `buildPlatformApp`).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { recordChange } from '../../audit/record-change.js';
import type { RequestSecurity } from '../../audit/request-security.js';
import { authorize } from '../../auth/authorize.js';
import { LoomError } from '../../core/errors.js';
import { originOf } from '../../http/request-log.js';
import { zodValidatorCompiler, type ZodFastifyInstance, type ZodTypeProvider } from '../../http/validation.js';
import { mlflowArtifactsPath } from '../../tracking/artifact-files.js';
import { toMlflowExperiment, toMlflowMetric, toMlflowRun, toMlflowRunInfo } from '../../tracking/mlflow-json.js';
import { requireRun, type TrackingStore } from '../../tracking/store.js';
import type { KeyValue } from '../../tracking/types.js';
import { MLFLOW_PREFIX, type PlatformRouteOptions } from '../server.js';
import { linkDatasetInputs } from '../mlflow/dataset-lineage.js';
import { loggedModelRoutes } from './logged-models.js';
import { localArtifactsRoot, runArtifactFiles, trackingArtifactRoutes } from './tracking-artifacts.js';
import * as s from './tracking-schemas.js';

const record = (items: KeyValue[] | undefined) => Object.fromEntries((items ?? []).map((t) => [t.key, t.value]));

function runIdOf(body: { run_id?: string; run_uuid?: string }): string {
  return (body.run_id ?? body.run_uuid)!;
}

async function requireExperiment(tracking: TrackingStore, experimentId: string) {
  const experiment = await tracking.getExperiment(experimentId);
  if (!experiment) throw new LoomError('NOT_FOUND', `no experiment with id ${JSON.stringify(experimentId)}`, { field: 'experiment_id' });
  return experiment;
}

/** Runs a deletion or restore of an experiment or run: on a secured server authorized and recorded with it in one transaction. */
type Recorder = (request: FastifyRequest, action: string, target: string, change: () => Promise<void>) => Promise<void>;

function recorder(security: RequestSecurity | undefined): Recorder {
  return async (request, action, target, change) => {
    if (!security) return change();
    const stage = action.endsWith('.delete') ? 'deleted' : 'active';
    await recordChange(security.contextFor(request.principal, originOf(request)), { action, permission: 'write', target }, change, () => ({ after: { lifecycleStage: stage } }));
  };
}

const tags = ['mlflow-tracking'];

function experimentRoutes(app: ZodFastifyInstance, tracking: TrackingStore, recorded: Recorder): void {
  const p = `${MLFLOW_PREFIX}/experiments`;
  app.post(`${p}/create`, { schema: { summary: 'Create an experiment', tags, body: s.createExperimentBody } }, async (request) => {
    const body = request.body;
    const experiment = await tracking.createExperiment({ name: body.name, artifactLocation: body.artifact_location || undefined, tags: record(body.tags) });
    return { experiment_id: experiment.experimentId };
  });
  app.get(`${p}/get`, { schema: { summary: 'An experiment by id', tags, querystring: s.experimentIdBody } }, async (request) => {
    const query = request.query;
    return { experiment: toMlflowExperiment(await requireExperiment(tracking, query.experiment_id)) };
  });
  app.get(`${p}/get-by-name`, { schema: { summary: 'An experiment by name', tags, querystring: s.experimentByNameQuery } }, async (request) => {
    const query = request.query;
    const experiment = await tracking.getExperimentByName(query.experiment_name);
    if (!experiment) throw new LoomError('NOT_FOUND', `no experiment named ${JSON.stringify(query.experiment_name)}`, { field: 'experiment_name' });
    return { experiment: toMlflowExperiment(experiment) };
  });
  const search = async (body: z.output<typeof s.searchExperimentsBody>) => {
    const page = await tracking.searchExperiments({
      filter: body.filter,
      orderBy: body.order_by,
      viewType: body.view_type,
      maxResults: body.max_results,
      pageToken: body.page_token || undefined,
    });
    return { experiments: page.items.map(toMlflowExperiment), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  };
  app.get(`${p}/search`, { schema: { summary: 'Search experiments (query string form)', tags, querystring: s.searchExperimentsBody } }, (request) => search(request.query));
  app.post(`${p}/search`, { schema: { summary: 'Search experiments', tags, body: s.searchExperimentsBody } }, (request) => search(request.body));
  app.post(`${p}/update`, { schema: { summary: 'Rename an experiment', tags, body: s.updateExperimentBody } }, async (request) => {
    const body = request.body;
    await tracking.renameExperiment(body.experiment_id, body.new_name);
    return {};
  });
  app.post(`${p}/delete`, { schema: { summary: 'Delete an experiment (restorable)', tags, body: s.experimentIdBody } }, async (request) => {
    const id = request.body.experiment_id;
    await recorded(request, 'experiment.delete', `experiment ${id}`, () => tracking.deleteExperiment(id));
    return {};
  });
  app.post(`${p}/restore`, { schema: { summary: 'Restore a deleted experiment', tags, body: s.experimentIdBody } }, async (request) => {
    const id = request.body.experiment_id;
    await recorded(request, 'experiment.restore', `experiment ${id}`, () => tracking.restoreExperiment(id));
    return {};
  });
  app.post(`${p}/set-experiment-tag`, { schema: { summary: 'Set a tag on an experiment', tags, body: s.setExperimentTagBody } }, async (request) => {
    const body = request.body;
    await tracking.setExperimentTag(body.experiment_id, body.key, body.value);
    return {};
  });
}

function runRoutes(app: ZodFastifyInstance, tracking: TrackingStore, recorded: Recorder): void {
  const p = `${MLFLOW_PREFIX}/runs`;
  app.post(`${p}/create`, { schema: { summary: 'Create a run', tags, body: s.createRunBody } }, async (request) => {
    const body = request.body;
    const run = await tracking.createRun({
      experimentId: body.experiment_id,
      userId: body.user_id,
      runName: body.run_name,
      startTime: body.start_time,
      tags: record(body.tags),
    });
    return { run: toMlflowRun(run) };
  });
  app.get(`${p}/get`, { schema: { summary: 'A run with its data', tags, querystring: s.runIdBody } }, async (request) => ({ run: toMlflowRun(await requireRun(tracking, runIdOf(request.query))) }));
  app.post(`${p}/update`, { schema: { summary: "Update a run's status, end time or name", tags, body: s.updateRunBody } }, async (request) => {
    const body = request.body;
    const info = await tracking.updateRun(runIdOf(body), { status: body.status, endTime: body.end_time, runName: body.run_name || undefined });
    return { run_info: toMlflowRunInfo(info) };
  });
  app.post(`${p}/delete`, { schema: { summary: 'Delete a run (restorable)', tags, body: s.runIdBody } }, async (request) => {
    const id = runIdOf(request.body);
    await recorded(request, 'run.delete', `run ${id}`, () => tracking.deleteRun(id));
    return {};
  });
  app.post(`${p}/restore`, { schema: { summary: 'Restore a deleted run', tags, body: s.runIdBody } }, async (request) => {
    const id = runIdOf(request.body);
    await recorded(request, 'run.restore', `run ${id}`, () => tracking.restoreRun(id));
    return {};
  });
  app.post(`${p}/search`, { schema: { summary: 'Search runs with a filter, ordering and paging', tags, body: s.searchRunsBody } }, async (request) => {
    const body = request.body;
    const page = await tracking.searchRuns({
      experimentIds: body.experiment_ids,
      filter: body.filter,
      orderBy: body.order_by,
      viewType: body.run_view_type,
      maxResults: body.max_results,
      pageToken: body.page_token || undefined,
    });
    return { runs: page.items.map(toMlflowRun), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  // Every write below is a log-batch: the one write path.
  app.post(`${p}/log-batch`, { schema: { summary: 'Log metrics, params and tags in one call', tags, body: s.logBatchBody } }, async (request) => {
    const body = request.body;
    await tracking.logBatch(body.run_id, { metrics: body.metrics, params: body.params, tags: body.tags });
    return {};
  });
  app.post(`${p}/log-metric`, { schema: { summary: 'Log a metric value', tags, body: s.logMetricBody } }, async (request) => {
    const body = request.body;
    await tracking.logBatch(runIdOf(body), { metrics: [{ key: body.key, value: body.value, timestamp: body.timestamp, step: body.step }] });
    return {};
  });
  app.post(`${p}/log-parameter`, { schema: { summary: 'Log a parameter', tags, body: s.logParamBody } }, async (request) => {
    const body = request.body;
    await tracking.logBatch(runIdOf(body), { params: [{ key: body.key, value: body.value }] });
    return {};
  });
  app.post(`${p}/set-tag`, { schema: { summary: 'Set a tag on a run', tags, body: s.setTagBody } }, async (request) => {
    const body = request.body;
    await tracking.logBatch(runIdOf(body), { tags: [{ key: body.key, value: body.value }] });
    return {};
  });
  app.post(`${p}/delete-tag`, { schema: { summary: 'Delete a tag of a run', tags, body: s.deleteTagBody } }, async (request) => {
    const body = request.body;
    await tracking.deleteTag(body.run_id, body.key);
    return {};
  });
}

/** The plugin: experiments, runs, metric history and artifact listing, plus proxied artifact upload and download. */
export const trackingRoutes: FastifyPluginAsync<PlatformRouteOptions> = async (scope, options) => {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(zodValidatorCompiler({ fix: s.MLFLOW_REQUEST_FIX }));
  const tracking = options.db.tracking;
  if (options.security) guardTracking(app);
  const files = runArtifactFiles(options.artifacts);
  const recorded = recorder(options.security);
  experimentRoutes(app, tracking, recorded);
  runRoutes(app, tracking, recorded);
  app.get(`${MLFLOW_PREFIX}/metrics/get-history`, { schema: { summary: "A metric's history, paged", tags, querystring: s.metricHistoryQuery } }, async (request) => {
    const query = request.query;
    const page = await tracking.getMetricHistory(runIdOf(query), query.metric_key, { maxResults: query.max_results, pageToken: query.page_token || undefined });
    return { metrics: page.items.map(toMlflowMetric), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  app.get(`${MLFLOW_PREFIX}/artifacts/list`, { schema: { summary: "A run's artifact files under a path", tags, querystring: s.listArtifactsQuery } }, async (request) => {
    const query = request.query;
    const run = await requireRun(tracking, runIdOf(query));
    const root = mlflowArtifactsPath(run.info.artifactUri);
    if (root === undefined) {
      throw new LoomError('FAILED_PRECONDITION', `run ${run.info.runId} stores artifacts at ${run.info.artifactUri}, which this server does not serve`, {
        fix: 'read them from that location directly',
      });
    }
    const path = files.checkedPath(query.path ?? '');
    const listed = await files.list(path ? `${root}/${path}` : root);
    return {
      root_uri: run.info.artifactUri,
      files: listed.map((f) => ({ path: path ? `${path}/${f.path}` : f.path, is_dir: f.isDir, ...(f.fileSize !== undefined ? { file_size: f.fileSize } : {}) })),
    };
  });
  const artifactsRoot = localArtifactsRoot(options.artifacts);
  loggedModelRoutes(app, tracking, files, (runId, inputs) => linkDatasetInputs(options.db.metadata, runId, inputs, artifactsRoot));
  await app.register(trackingArtifactRoutes, { files, uploadBytes: options.limits.uploadBytes });
};

/** POST routes that only read (MLflow searches by POST). */
const READ_ONLY_POST = /\/search(\?|$)/;
/** Writes need the write right (deletions and restores are also recorded, by their routes). */
function guardTracking(app: ZodFastifyInstance): void {
  // Before validation, so a caller without the right learns that first, whatever the body holds.
  app.addHook('preValidation', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && !READ_ONLY_POST.test(request.url)) authorize(request.principal, 'write');
  });
}
