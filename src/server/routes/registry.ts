/**
 * The model registry on MLflow's REST paths and field names (`registered-models/*`,
 * `model-versions/*`, `registered-models/alias`) over `db.registry`, so MLflow clients
 * (`MlflowClient(registry_uri=...)`) use Loom's registry unchanged. Loom's rules hold
 * here too: aliases need READY, unarchived versions; a version in use cannot be deleted;
 * an alias under an approval rule answers INVALID_STATE (approve with `loom models approve`).
 * Writes go through `GuardedRegistry` for the request's principal (src/http/principal.ts):
 * authorized, recorded in the audit log, alias moves recorded under the principal's name.
 *
 * Usage: `await app.register(registryRoutes, { ...routeOptions, prefix: MLFLOW_PREFIX })` (done by `buildPlatformApp`).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GuardedRegistry } from '../../audit/guarded-registry.js';
import { LoomError } from '../../core/errors.js';
import { originOf } from '../../http/request-log.js';
import { zodValidatorCompiler, type ZodFastifyInstance, type ZodTypeProvider } from '../../http/validation.js';
import { MLFLOW_PROPERTIES, toMlflowModelVersion, toMlflowRegisteredModel } from '../../registry/mlflow-json.js';
import { parseModelFilter, parseVersionFilter } from '../../registry/search-filter.js';
import type { RegistryStore } from '../../registry/store.js';
import type { ModelVersion, RegisteredModel } from '../../registry/types.js';
import { importMlflowModel, type ImportServices } from '../mlflow/model-import.js';
import type { PlatformRouteOptions } from '../server.js';
import { runArtifactFiles } from './tracking-artifacts.js';
import { MLFLOW_REQUEST_FIX } from './tracking-schemas.js';

const name = z.string().min(1);
const version = z.union([z.number().int().min(1), z.string().regex(/^\d+$/, 'must be a version number').transform(Number)]);
const keyValue = z.object({ key: z.string().min(1), value: z.string() });
const maxResults = z.coerce.number().int().min(1).max(200_000);

const modelBody = z.object({ name });
const createModelBody = z.object({ name, tags: z.array(keyValue).optional(), description: z.string().optional() });
const renameBody = z.object({ name, new_name: name });
const updateModelBody = z.object({ name, description: z.string().optional() });
const searchBody = z.object({ filter: z.string().optional(), max_results: maxResults.optional(), page_token: z.string().optional(), order_by: z.union([z.string(), z.array(z.string())]).optional() });
const modelTagBody = z.object({ name, key: z.string().min(1), value: z.string() });
const modelTagKeyBody = z.object({ name, key: z.string().min(1) });
const aliasBody = z.object({ name, alias: z.string().min(1), version });
const aliasKeyBody = z.object({ name, alias: z.string().min(1) });
const versionBody = z.object({ name, version });
const createVersionBody = z.object({
  name,
  source: z.string().min(1),
  run_id: z.string().optional(),
  tags: z.array(keyValue).optional(),
  run_link: z.string().optional(),
  description: z.string().optional(),
  /** MLflow 3 names the logged model it registers (its source is then `models:/<model id>`). */
  model_id: z.string().optional(),
});
const updateVersionBody = z.object({ name, version, description: z.string().optional() });
const versionTagBody = z.object({ name, version, key: z.string().min(1), value: z.string() });
const versionTagKeyBody = z.object({ name, version, key: z.string().min(1) });
const latestBody = z.object({ name, stages: z.union([z.string(), z.array(z.string())]).optional() });
const stageBody = z.object({ name, version, stage: z.string(), archive_existing_versions: z.union([z.boolean(), z.enum(['true', 'false'])]).optional() });

/** Loom pages hold at most this many; larger MLflow `max_results` are gathered from several. */
const STORE_PAGE = 1000;

/** The registry a request's writes go through. */
type Guarded = (request: FastifyRequest) => RegistryStore;

/**
 * DELETE bodies arrive as JSON from MLflow's client, but other clients send query strings:
 * the query's fields go into the body before it is checked (the body's win).
 */
const queryIntoBody = {
  preValidation: async (request: FastifyRequest) => {
    request.body = { ...(request.query as object), ...((request.body as object | undefined) ?? {}) };
  },
};
const DELETE_FORMS = 'The fields may come as a JSON body (MLflow clients) or as a query string.';
const tags = ['mlflow-registry'];

function actorOf(request: FastifyRequest): { actor: string; reason: string } {
  return { actor: request.principal.subject, reason: 'through the MLflow registry API' };
}

async function requireModel(registry: RegistryStore, modelName: string): Promise<RegisteredModel> {
  const model = await registry.getRegisteredModel(modelName);
  if (!model) throw new LoomError('NOT_FOUND', `registered model ${JSON.stringify(modelName)} not found`, { field: 'name' });
  return model;
}

async function requireVersion(registry: RegistryStore, modelName: string, number: number): Promise<ModelVersion> {
  const found = await registry.getModelVersion(modelName, number);
  if (!found) throw new LoomError('NOT_FOUND', `model version (name=${modelName}, version=${number}) not found`, { field: 'version' });
  return found;
}

function checkOrderBy(orderBy: string | string[] | undefined, allowed: RegExp, natural: string): void {
  const list = orderBy === undefined ? [] : Array.isArray(orderBy) ? orderBy : [orderBy];
  for (const clause of list) {
    if (!allowed.test(clause.trim())) {
      throw new LoomError('INVALID_ARGUMENT', `order_by ${JSON.stringify(clause)} is not supported`, { field: 'order_by', fix: `leave it out: results come ${natural}` });
    }
  }
}

/** Gathers up to `max` items from store pages, returning the token of the last page taken. */
async function gather<T>(max: number, pageToken: string | undefined, fetch: (pageSize: number, pageToken?: string) => Promise<{ items: T[]; nextPageToken?: string }>) {
  const items: T[] = [];
  let token = pageToken || undefined;
  do {
    const page = await fetch(Math.min(STORE_PAGE, max - items.length), token);
    items.push(...page.items);
    token = page.nextPageToken;
  } while (token && items.length < max);
  return { items, ...(token ? { next_page_token: token } : {}) };
}

/** Models with their latest versions, in one query for the whole list. */
async function withLatest(registry: RegistryStore, models: RegisteredModel[]) {
  const latest = await registry.latestVersionsOf(models.map((m) => m.name));
  return models.map((m) => toMlflowRegisteredModel(m, latest.get(m.name)));
}

// The store answers NOT_FOUND for an unknown model or version on every write, so routes
// look a model up only when they need its aliases for the answer.
function modelRoutes(app: ZodFastifyInstance, registry: RegistryStore, guarded: Guarded): void {
  const shaped = async (model: RegisteredModel) => (await withLatest(registry, [model]))[0]!;
  app.post('/registered-models/create', { schema: { summary: 'Create a registered model', tags, body: createModelBody } }, async (request) => {
    const body = request.body;
    const tags = Object.fromEntries((body.tags ?? []).map((t) => [t.key, t.value]));
    return { registered_model: toMlflowRegisteredModel(await guarded(request).createRegisteredModel({ name: body.name, description: body.description, tags })) };
  });
  app.get('/registered-models/get', { schema: { summary: 'A registered model with its latest versions and aliases', tags, querystring: modelBody } }, async (request) => {
    return { registered_model: await shaped(await requireModel(registry, request.query.name)) };
  });
  app.post('/registered-models/rename', { schema: { summary: 'Rename a registered model', tags, body: renameBody } }, async (request) => {
    const body = request.body;
    return { registered_model: await shaped(await guarded(request).renameRegisteredModel(body.name, body.new_name)) };
  });
  app.patch('/registered-models/update', { schema: { summary: "Update a registered model's description", tags, body: updateModelBody } }, async (request) => {
    const body = request.body;
    return { registered_model: await shaped(await guarded(request).updateRegisteredModel(body.name, { description: body.description })) };
  });
  app.delete('/registered-models/delete', { schema: { summary: 'Delete a registered model', description: DELETE_FORMS, tags, body: modelBody }, ...queryIntoBody }, async (request) => {
    const body = request.body;
    await guarded(request).deleteRegisteredModel(body.name);
    return {};
  });
  const search = async (body: z.output<typeof searchBody>) => {
    checkOrderBy(body.order_by, /^name(\s+ASC)?$/i, 'by name, ascending');
    const filter = parseModelFilter(body.filter);
    const page = await gather(body.max_results ?? 100, body.page_token, (pageSize, pageToken) => registry.listRegisteredModels({ pageSize, pageToken, filter }));
    return { registered_models: await withLatest(registry, page.items), ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
  };
  app.get('/registered-models/search', { schema: { summary: 'Search registered models (query string form)', tags, querystring: searchBody } }, (request) => search(request.query));
  app.post('/registered-models/search', { schema: { summary: 'Search registered models', tags, body: searchBody } }, (request) => search(request.body));
  const latest = async (body: z.output<typeof latestBody>) => {
    const model = await requireModel(registry, body.name);
    const stages = body.stages === undefined ? [] : (Array.isArray(body.stages) ? body.stages : [body.stages]).map((s) => s.toLowerCase());
    const versions = (await registry.latestVersions(body.name)).filter((v) => stages.length === 0 || stages.includes(v.archivedAt === null ? 'none' : 'archived'));
    return { model_versions: versions.map((v) => toMlflowModelVersion(v, model.aliases)) };
  };
  app.post('/registered-models/get-latest-versions', { schema: { summary: 'The latest version of a model per stage', tags, body: latestBody } }, (request) => latest(request.body));
  app.get('/registered-models/get-latest-versions', { schema: { summary: 'The latest version of a model per stage (query string form)', tags, querystring: latestBody } }, (request) => latest(request.query));
  app.post('/registered-models/set-tag', { schema: { summary: 'Set a tag on a registered model', tags, body: modelTagBody } }, async (request) => {
    const body = request.body;
    await guarded(request).setRegisteredModelTag(body.name, body.key, body.value);
    return {};
  });
  app.delete('/registered-models/delete-tag', { schema: { summary: 'Delete a tag of a registered model', description: DELETE_FORMS, tags, body: modelTagKeyBody }, ...queryIntoBody }, async (request) => {
    const body = request.body;
    await guarded(request).deleteRegisteredModelTag(body.name, body.key);
    return {};
  });
  app.post('/registered-models/alias', { schema: { summary: 'Point an alias at a version (READY, not archived; approval rules apply)', tags, body: aliasBody } }, async (request) => {
    const body = request.body;
    await guarded(request).setAlias(body.name, body.alias, body.version, actorOf(request));
    return {};
  });
  app.delete('/registered-models/alias', { schema: { summary: 'Delete an alias', description: DELETE_FORMS, tags, body: aliasKeyBody }, ...queryIntoBody }, async (request) => {
    const body = request.body;
    await guarded(request).deleteAlias(body.name, body.alias, actorOf(request));
    return {};
  });
  app.get('/registered-models/alias', { schema: { summary: 'The version an alias points at', tags, querystring: aliasKeyBody } }, async (request) => {
    const query = request.query;
    const model = await requireModel(registry, query.name);
    const found = await registry.getVersionByAlias(query.name, query.alias);
    if (!found) throw new LoomError('NOT_FOUND', `registered model alias ${query.alias} not found on ${query.name}`, { field: 'alias' });
    return { model_version: toMlflowModelVersion(found, model.aliases) };
  });
}

function versionRoutes(app: ZodFastifyInstance, registry: RegistryStore, guarded: Guarded, services: ImportServices): void {
  const shaped = async (found: ModelVersion) => toMlflowModelVersion(found, (await requireModel(registry, found.modelName)).aliases);
  app.post('/model-versions/create', { schema: { summary: 'Register a model version (an ONNX MLflow model becomes servable)', tags, body: createVersionBody } }, async (request) => {
    const body = request.body;
    // A model an MLflow client logged here: ONNX becomes a servable Loom artifact (server/mlflow/model-import.ts).
    const imported = await importMlflowModel(body.source, body.model_id || undefined, services);
    const created = await guarded(request).createModelVersion({
      modelName: body.name,
      source: imported?.source ?? body.source,
      runId: body.run_id || imported?.runId || null,
      description: body.description ?? '',
      tags: Object.fromEntries((body.tags ?? []).map((t) => [t.key, t.value])),
      signature: imported?.signature ?? null,
      properties: { ...(body.run_link ? { runLink: body.run_link } : {}), ...imported?.properties },
    });
    // A version just made carries no alias yet.
    return { model_version: toMlflowModelVersion(created, {}) };
  });
  app.get('/model-versions/get', { schema: { summary: 'A model version', tags, querystring: versionBody } }, async (request) => {
    const query = request.query;
    return { model_version: await shaped(await requireVersion(registry, query.name, query.version)) };
  });
  app.patch('/model-versions/update', { schema: { summary: "Update a version's description", tags, body: updateVersionBody } }, async (request) => {
    const body = request.body;
    return { model_version: await shaped(await guarded(request).updateModelVersion(body.name, body.version, { description: body.description })) };
  });
  app.delete('/model-versions/delete', { schema: { summary: 'Delete a model version not in use', description: DELETE_FORMS, tags, body: versionBody }, ...queryIntoBody }, async (request) => {
    const body = request.body;
    await guarded(request).deleteModelVersion(body.name, body.version);
    return {};
  });
  const search = async (body: z.output<typeof searchBody>) => {
    checkOrderBy(body.order_by, /^(creation_timestamp|version_number)\s+DESC$/i, 'newest first');
    const filter = parseVersionFilter(body.filter);
    const page = await gather(body.max_results ?? 10_000, body.page_token, (pageSize, pageToken) => registry.searchModelVersions({ pageSize, pageToken, filter }));
    const aliases = new Map((await registry.getRegisteredModels(page.items.map((v) => v.modelName))).map((m) => [m.name, m.aliases]));
    return { model_versions: page.items.map((v) => toMlflowModelVersion(v, aliases.get(v.modelName))), ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
  };
  app.get('/model-versions/search', { schema: { summary: 'Search model versions (query string form)', tags, querystring: searchBody } }, (request) => search(request.query));
  app.post('/model-versions/search', { schema: { summary: 'Search model versions', tags, body: searchBody } }, (request) => search(request.body));
  app.get('/model-versions/get-download-uri', { schema: { summary: "Where a version's files can be downloaded", tags, querystring: versionBody } }, async (request) => {
    const query = request.query;
    const found = await requireVersion(registry, query.name, query.version);
    // MLflow clients download what MLflow wrote, wherever Loom keeps its servable copy.
    const mlflowUri = found.properties[MLFLOW_PROPERTIES.artifactUri];
    return { artifact_uri: typeof mlflowUri === 'string' ? mlflowUri : found.source };
  });
  app.post('/model-versions/set-tag', { schema: { summary: 'Set a tag on a model version', tags, body: versionTagBody } }, async (request) => {
    const body = request.body;
    await guarded(request).setModelVersionTag(body.name, body.version, body.key, body.value);
    return {};
  });
  app.delete('/model-versions/delete-tag', { schema: { summary: 'Delete a tag of a model version', description: DELETE_FORMS, tags, body: versionTagKeyBody }, ...queryIntoBody }, async (request) => {
    const body = request.body;
    await guarded(request).deleteModelVersionTag(body.name, body.version, body.key);
    return {};
  });
  // Stages are deprecated in MLflow; Loom keeps only `Archived` (and `None` to restore). Use aliases for the rest.
  app.post('/model-versions/transition-stage', { schema: { summary: "Archive a version, or restore it (stage 'None'); other stages are aliases in Loom", tags, body: stageBody } }, async (request) => {
    const body = request.body;
    const stage = body.stage.toLowerCase();
    if (stage !== 'archived' && stage !== 'none') {
      throw new LoomError('INVALID_ARGUMENT', `stage ${JSON.stringify(body.stage)} is not supported: Loom uses aliases instead of stages`, {
        field: 'stage',
        fix: "set an alias (POST registered-models/alias with alias 'champion'); only 'Archived' and 'None' are accepted as stages",
      });
    }
    const moved = stage === 'archived' ? await guarded(request).archiveModelVersion(body.name, body.version) : await guarded(request).restoreModelVersion(body.name, body.version);
    return { model_version: await shaped(moved) };
  });
}

/** The registry surface of the platform API; register it under MLFLOW_PREFIX. */
export const registryRoutes: FastifyPluginAsync<PlatformRouteOptions> = async (scope, options) => {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(zodValidatorCompiler({ fix: MLFLOW_REQUEST_FIX }));
  const registry = options.db.registry;
  const { security } = options;
  // Writes go through the request principal's guard (authorized, audited); reads use the store.
  const guarded: Guarded = security ? (request) => new GuardedRegistry(registry, security.contextFor(request.principal, originOf(request))) : () => registry;
  modelRoutes(app, registry, guarded);
  versionRoutes(app, registry, guarded, { tracking: options.db.tracking, files: runArtifactFiles(options.artifacts), artifacts: options.artifacts });
};
