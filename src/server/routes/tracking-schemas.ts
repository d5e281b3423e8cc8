/**
 * zod schemas of the MLflow tracking requests Loom accepts (field names as in MLflow's
 * service.proto). Protobuf JSON may write int64 fields as strings and doubles as "NaN" or
 * "Infinity", so both forms are accepted. Unknown fields are ignored, as MLflow does. Routes
 * declare them in Fastify's `schema` option: checked there and listed in `/openapi.json`.
 */
import { z } from 'zod';
import { RUN_STATUSES, VIEW_TYPES } from '../../tracking/types.js';

/** MLflow's log-batch limits, so a batch that works here works against MLflow too. */
export const MAX_BATCH_METRICS = 1000;
export const MAX_BATCH_PARAMS = 100;
export const MAX_BATCH_TAGS = 100;

const int64 = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);
const double = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number), z.string().regex(/^-?\d+(\.\d*)?([eE][-+]?\d+)?$/).transform(Number)]);
const id = z.string().min(1);
const keyValue = z.object({ key: z.string(), value: z.string() });
const metric = z.object({ key: z.string(), value: double, timestamp: int64, step: int64.optional().default(0) });
const runRef = z.object({ run_id: id.optional(), run_uuid: id.optional() }).refine((r) => r.run_id ?? r.run_uuid, { message: 'run_id is required', path: ['run_id'] });
/** Repeated query parameters arrive as a string or a list. */
const stringList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
const viewType = z.union([z.enum(VIEW_TYPES), z.coerce.number().int().min(1).max(3).transform((n) => VIEW_TYPES[n - 1]!)]);

export const createExperimentBody = z.object({ name: z.string().min(1), artifact_location: z.string().optional(), tags: z.array(keyValue).optional() });
export const experimentIdBody = z.object({ experiment_id: id });
export const experimentByNameQuery = z.object({ experiment_name: z.string().min(1) });
export const updateExperimentBody = z.object({ experiment_id: id, new_name: z.string().min(1) });
export const setExperimentTagBody = z.object({ experiment_id: id, key: z.string(), value: z.string() });
export const searchExperimentsBody = z.object({
  max_results: z.coerce.number().int().optional(),
  page_token: z.string().optional(),
  filter: z.string().optional(),
  order_by: stringList.optional(),
  view_type: viewType.optional(),
});

export const createRunBody = z.object({
  experiment_id: id.optional(),
  user_id: z.string().optional(),
  run_name: z.string().optional(),
  start_time: int64.optional(),
  tags: z.array(keyValue).optional(),
});
export const runIdBody = runRef;
export const updateRunBody = z
  .object({ run_id: id.optional(), run_uuid: id.optional(), status: z.enum(RUN_STATUSES).optional(), end_time: int64.optional(), run_name: z.string().optional() })
  .refine((r) => r.run_id ?? r.run_uuid, { message: 'run_id is required', path: ['run_id'] });
export const searchRunsBody = z.object({
  experiment_ids: z.array(id).min(1),
  filter: z.string().optional(),
  run_view_type: viewType.optional(),
  max_results: z.coerce.number().int().optional(),
  order_by: stringList.optional(),
  page_token: z.string().optional(),
});
export const logMetricBody = z
  .object({ run_id: id.optional(), run_uuid: id.optional(), key: z.string(), value: double, timestamp: int64, step: int64.optional().default(0) })
  .refine((r) => r.run_id ?? r.run_uuid, { message: 'run_id is required', path: ['run_id'] });
export const logParamBody = z
  .object({ run_id: id.optional(), run_uuid: id.optional(), key: z.string(), value: z.string() })
  .refine((r) => r.run_id ?? r.run_uuid, { message: 'run_id is required', path: ['run_id'] });
export const setTagBody = logParamBody;
export const deleteTagBody = z.object({ run_id: id, key: z.string() });
export const logBatchBody = z.object({
  run_id: id,
  metrics: z.array(metric).max(MAX_BATCH_METRICS).optional(),
  params: z.array(keyValue).max(MAX_BATCH_PARAMS).optional(),
  tags: z.array(keyValue).max(MAX_BATCH_TAGS).optional(),
});
const dataset = z.object({
  name: z.string().min(1),
  digest: z.string().min(1),
  source_type: z.string().min(1),
  source: z.string(),
  schema: z.string().optional(),
  profile: z.string().optional(),
});
export const logInputsBody = z.object({
  run_id: id,
  datasets: z.array(z.object({ tags: z.array(keyValue).optional(), dataset })).optional(),
  // Models a run reads (MLflow 3's model inputs) are accepted and not recorded: Loom's lineage follows registry versions instead.
  models: z.array(z.object({ model_id: id })).optional(),
});
export const logOutputsBody = z.object({ run_id: id, models: z.array(z.object({ model_id: id, step: int64.optional().default(0) })) });
export const logModelBody = z.object({ run_id: id, model_json: z.string().min(2) });

export const createLoggedModelBody = z.object({
  experiment_id: id,
  name: z.string().optional(),
  model_type: z.string().optional(),
  source_run_id: z.string().optional(),
  params: z.array(keyValue).optional(),
  tags: z.array(keyValue).optional(),
});
/** Protobuf JSON writes the enum by name; some clients send its number. */
export const finalizeLoggedModelBody = z.object({
  status: z.union([z.enum(['LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED']), z.literal(2), z.literal(3)]).transform((s) => (s === 'LOGGED_MODEL_READY' || s === 2 ? ('READY' as const) : ('UPLOAD_FAILED' as const))),
});
export const loggedModelIdParams = z.object({ model_id: id });
export const loggedModelTagParams = z.object({ model_id: id, tag_key: z.string().min(1) });
export const getLoggedModelQuery = z.object({ allow_deleted: z.enum(['true', 'false']).optional() });
export const loggedModelTagsBody = z.object({ tags: z.array(keyValue) });
export const loggedModelParamsBody = z.object({ params: z.array(keyValue) });
export const loggedModelArtifactsQuery = z.object({ artifact_directory_path: z.string().optional(), page_token: z.string().optional() });
export const searchLoggedModelsBody = z.object({
  experiment_ids: z.array(id).optional(),
  filter: z.string().optional(),
  // Datasets only scope metric clauses, which logged-model search refuses (no model metrics are recorded).
  datasets: z.array(z.object({ dataset_name: z.string(), dataset_digest: z.string().optional() })).optional(),
  max_results: z.coerce.number().int().optional(),
  order_by: z.array(z.object({ field_name: z.string().min(1), ascending: z.boolean().optional().default(true) })).optional(),
  page_token: z.string().optional(),
});
export const metricHistoryQuery = z.object({
  run_id: id.optional(),
  run_uuid: id.optional(),
  metric_key: z.string().min(1),
  max_results: z.coerce.number().int().optional(),
  page_token: z.string().optional(),
});
export const listArtifactsQuery = z.object({ run_id: id.optional(), run_uuid: id.optional(), path: z.string().optional(), page_token: z.string().optional() });

/** The fix of an MLflow request that does not match its schema (routes set it on their validator compiler). */
export const MLFLOW_REQUEST_FIX = "see MLflow's REST API reference for this endpoint's fields";
