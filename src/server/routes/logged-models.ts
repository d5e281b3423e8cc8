/**
 * MLflow 3's logged models on MLflow's REST paths (`/api/2.0/mlflow/logged-models`, service.proto's
 * CreateLoggedModel, GetLoggedModel, SearchLoggedModels, FinalizeLoggedModel, DeleteLoggedModel,
 * SetLoggedModelTags, DeleteLoggedModelTag, LogLoggedModelParamsRequest, ListLoggedModelArtifacts),
 * and the run calls that go with them: `runs/outputs` (a run produced a model), `runs/log-inputs`
 * (datasets a run read) and MLflow 2's `runs/log-model`. A logged model's files are uploaded and
 * read through the proxied artifact routes under its artifact location, like a run's.
 * Registered inside `trackingRoutes`, so its write guard and error handler apply.
 */
import { LoomError } from '../../core/errors.js';
import type { ZodFastifyInstance } from '../../http/validation.js';
import type { RunArtifactFiles } from '../../tracking/artifact-files.js';
import { mlflowArtifactsPath } from '../../tracking/artifact-files.js';
import { recordLoggedModel } from '../../tracking/log.js';
import type { DatasetInput, LoggedModel } from '../../tracking/logged-model-types.js';
import { toMlflowLoggedModel } from '../../tracking/mlflow-json.js';
import type { TrackingStore } from '../../tracking/store.js';
import type { KeyValue } from '../../tracking/types.js';
import { MLFLOW_PREFIX } from '../server.js';
import * as s from './tracking-schemas.js';

const record = (items: KeyValue[] | undefined) => Object.fromEntries((items ?? []).map((t) => [t.key, t.value]));

async function requireModel(tracking: TrackingStore, modelId: string, allowDeleted = false): Promise<LoggedModel> {
  const model = await tracking.getLoggedModel(modelId, { allowDeleted });
  if (!model) throw new LoomError('NOT_FOUND', `no logged model with id ${JSON.stringify(modelId)}`, { field: 'model_id', fix: 'search logged models with logged-models/search' });
  return model;
}

/** The path under the tracking artifact root where a logged model's files are, or FAILED_PRECONDITION when they are elsewhere. */
export function loggedModelFilesPath(model: LoggedModel): string {
  const root = mlflowArtifactsPath(model.artifactLocation);
  if (root === undefined) {
    throw new LoomError('FAILED_PRECONDITION', `logged model ${model.modelId} stores its files at ${model.artifactLocation}, which this server does not serve`, {
      fix: 'read them from that location directly',
    });
  }
  return root;
}

/**
 * Logged models, plus the run calls that record what a run read and produced. `linkInputs`
 * links recorded dataset inputs into lineage (server/mlflow/dataset-lineage.ts).
 */
export function loggedModelRoutes(app: ZodFastifyInstance, tracking: TrackingStore, files: RunArtifactFiles, linkInputs: (runId: string, inputs: DatasetInput[]) => Promise<unknown>): void {
  const p = `${MLFLOW_PREFIX}/logged-models`;
  const tags = ['mlflow-logged-models'];
  app.post(p, { schema: { summary: 'Create a logged model (MLflow 3)', tags, body: s.createLoggedModelBody } }, async (request) => {
    const body = request.body;
    const model = await tracking.createLoggedModel({
      experimentId: body.experiment_id,
      name: body.name,
      modelType: body.model_type,
      sourceRunId: body.source_run_id || undefined,
      params: record(body.params),
      tags: record(body.tags),
    });
    return { model: toMlflowLoggedModel(model) };
  });
  app.post(`${p}/search`, { schema: { summary: 'Search logged models', tags, body: s.searchLoggedModelsBody } }, async (request) => {
    const body = request.body;
    const page = await tracking.searchLoggedModels({
      experimentIds: body.experiment_ids ?? [],
      filter: body.filter,
      orderBy: body.order_by?.map((o) => ({ field: o.field_name, ascending: o.ascending })),
      maxResults: body.max_results,
      pageToken: body.page_token || undefined,
    });
    return { models: page.items.map(toMlflowLoggedModel), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  app.get(`${p}/:model_id`, { schema: { summary: 'A logged model', tags, params: s.loggedModelIdParams, querystring: s.getLoggedModelQuery } }, async (request) => {
    const { model_id } = request.params;
    const query = request.query;
    return { model: toMlflowLoggedModel(await requireModel(tracking, model_id, query.allow_deleted === 'true')) };
  });
  app.patch(`${p}/:model_id`, { schema: { summary: 'Finalize a logged model: its files are uploaded, or failed', tags, params: s.loggedModelIdParams, body: s.finalizeLoggedModelBody } }, async (request) => {
    const { model_id } = request.params;
    const body = request.body;
    return { model: toMlflowLoggedModel(await tracking.finalizeLoggedModel(model_id, body.status)) };
  });
  app.delete(`${p}/:model_id`, { schema: { summary: 'Delete a logged model', tags, params: s.loggedModelIdParams } }, async (request) => {
    await tracking.deleteLoggedModel(request.params.model_id);
    return {};
  });
  app.patch(`${p}/:model_id/tags`, { schema: { summary: 'Set tags on a logged model', tags, params: s.loggedModelIdParams, body: s.loggedModelTagsBody } }, async (request) => {
    const { model_id } = request.params;
    await tracking.setLoggedModelTags(model_id, record(request.body.tags));
    return {};
  });
  app.delete(`${p}/:model_id/tags/:tag_key`, { schema: { summary: 'Delete a tag of a logged model', tags, params: s.loggedModelTagParams } }, async (request) => {
    const params = request.params;
    await tracking.deleteLoggedModelTag(params.model_id, params.tag_key);
    return {};
  });
  app.post(`${p}/:model_id/params`, { schema: { summary: 'Log parameters of a logged model', tags, params: s.loggedModelIdParams, body: s.loggedModelParamsBody } }, async (request) => {
    const { model_id } = request.params;
    await tracking.logLoggedModelParams(model_id, record(request.body.params));
    return {};
  });
  app.get(`${p}/:model_id/artifacts/directories`, { schema: { summary: "A logged model's files under a directory", tags, params: s.loggedModelIdParams, querystring: s.loggedModelArtifactsQuery } }, async (request) => {
    const { model_id } = request.params;
    const query = request.query;
    const model = await requireModel(tracking, model_id);
    const root = loggedModelFilesPath(model);
    const path = files.checkedPath(query.artifact_directory_path ?? '');
    const listed = await files.list(path ? `${root}/${path}` : root);
    return {
      root_uri: model.artifactLocation,
      files: listed.map((f) => ({ path: path ? `${path}/${f.path}` : f.path, is_dir: f.isDir, ...(f.fileSize !== undefined ? { file_size: f.fileSize } : {}) })),
    };
  });

  app.post(`${MLFLOW_PREFIX}/runs/outputs`, { schema: { summary: 'Record the logged models a run produced', tags: ['mlflow-tracking'], body: s.logOutputsBody } }, async (request) => {
    const body = request.body;
    await tracking.logOutputs(body.run_id, body.models.map((m) => ({ modelId: m.model_id, step: m.step })));
    return {};
  });
  app.post(`${MLFLOW_PREFIX}/runs/log-inputs`, { schema: { summary: 'Record the datasets a run read (linked in lineage when they are Loom dataset versions)', tags: ['mlflow-tracking'], body: s.logInputsBody } }, async (request) => {
    const body = request.body;
    const inputs = (body.datasets ?? []).map((input) => ({
      dataset: { name: input.dataset.name, digest: input.dataset.digest, sourceType: input.dataset.source_type, source: input.dataset.source, schema: input.dataset.schema ?? '', profile: input.dataset.profile ?? '' },
      tags: record(input.tags),
    }));
    await tracking.logInputs(body.run_id, inputs);
    await linkInputs(body.run_id, inputs);
    return {};
  });
  app.post(`${MLFLOW_PREFIX}/runs/log-model`, { schema: { summary: "Record a model a run logged (MLflow 2's MLmodel JSON)", tags: ['mlflow-tracking'], body: s.logModelBody } }, async (request) => {
    const body = request.body;
    let model: unknown;
    try {
      model = JSON.parse(body.model_json);
    } catch {
      model = undefined;
    }
    if (typeof model !== 'object' || model === null || Array.isArray(model)) {
      throw new LoomError('INVALID_ARGUMENT', 'model_json must be a JSON object (an MLmodel description)', { field: 'model_json' });
    }
    await recordLoggedModel(tracking, body.run_id, model as Record<string, unknown>);
    return {};
  });
}
