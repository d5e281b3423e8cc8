/**
 * The logged-model half of the tracking store (MLflow 3's `logged-models/*`) and a run's
 * inputs and outputs, over the same Kysely database. `KyselyTrackingStore` delegates to
 * it; the contract suite (`store.contract-logged-models.ts`) runs it on both backends.
 */
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { LoomError } from '../core/errors.js';
import type { DialectKind } from '../core/sql-dialect.js';
import { chunks, IN_LIST_CHUNK, requireName } from '../metadata/query-helpers.js';
import type { Page } from '../metadata/types.js';
import { LOGGED_MODEL_STATUSES, type DatasetInput, type LoggedModel, type LoggedModelStatus, type ModelOutput, type NewLoggedModel, type SearchLoggedModelsRequest } from './logged-model-types.js';
import { searchLoggedModels } from './search-logged-models.js';
import type { TrackingKysely, TrackingLoggedModelTable } from './tracking-tables.js';
import { checkedKey, checkedValue, experimentIdNumber, isRunId, MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH } from './tracking-rows.js';
import { notFoundRun } from './store.js';
import type { KeyValue } from './types.js';

const MODEL_ID = /^m-[0-9a-f]{32}$/;
/** MLflow's limits on a dataset's fields, so what is logged here logs to MLflow too. */
const MAX_DATASET_FIELD = 65_535;
const MAX_DATASET_PROFILE = 16_777_215;

export function isModelId(id: unknown): id is string {
  return typeof id === 'string' && MODEL_ID.test(id);
}

function notFoundModel(modelId: string): LoomError {
  return new LoomError('NOT_FOUND', `no logged model with id ${JSON.stringify(modelId)}`, { field: 'model_id', fix: 'search logged models with logged-models/search' });
}

function checkedPairs(record: Record<string, string> | KeyValue[] | undefined, field: string, max: number): KeyValue[] {
  const items = Array.isArray(record) ? record : Object.entries(record ?? {}).map(([key, value]) => ({ key, value }));
  return items.map((item, i) => ({ key: checkedKey(item.key, `${field}[${i}].key`), value: checkedValue(item.value, `${field}[${i}].value`, max) }));
}

/** Logged models, and what runs read and produced. */
export class LoggedModels {
  constructor(
    private readonly db: TrackingKysely,
    private readonly dialect: DialectKind,
  ) {}

  async create(model: NewLoggedModel): Promise<LoggedModel> {
    const experimentKey = experimentIdNumber(model.experimentId);
    const experiment = experimentKey === undefined ? undefined : await this.db.selectFrom('tracking_experiment').selectAll().where('id', '=', experimentKey).executeTakeFirst();
    if (!experiment) throw new LoomError('NOT_FOUND', `no experiment with id ${JSON.stringify(model.experimentId)}`, { field: 'experiment_id' });
    if (experiment.lifecycle_stage !== 'active') {
      throw new LoomError('FAILED_PRECONDITION', `experiment ${model.experimentId} is deleted; models can only be logged to an active experiment`, { field: 'experiment_id', fix: 'restore the experiment first' });
    }
    if (model.sourceRunId !== undefined && !(isRunId(model.sourceRunId) && (await this.db.selectFrom('tracking_run').select('run_id').where('run_id', '=', model.sourceRunId).executeTakeFirst()))) {
      throw notFoundRun(model.sourceRunId, 'source_run_id');
    }
    const modelId = `m-${randomBytes(16).toString('hex')}`;
    const name = model.name === undefined || model.name === '' ? `model-${modelId.slice(2, 10)}` : requireName(model.name, 'name');
    const tags = checkedPairs(model.tags, 'tags', MAX_TAG_VALUE_LENGTH);
    const params = checkedPairs(model.params, 'params', MAX_PARAM_VALUE_LENGTH);
    const now = Date.now();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('tracking_logged_model')
        .values({
          model_id: modelId,
          experiment_id: experiment.id,
          name,
          artifact_location: `${experiment.artifact_location.replace(/\/+$/, '')}/models/${modelId}/artifacts`,
          status: 'PENDING',
          model_type: model.modelType ?? '',
          source_run_id: model.sourceRunId ?? null,
          lifecycle_stage: 'active',
          creation_time: now,
          last_updated_time: now,
        })
        .execute();
      if (tags.length > 0) await trx.insertInto('tracking_logged_model_tag').values(tags.map((t) => ({ model_id: modelId, ...t }))).execute();
      if (params.length > 0) await trx.insertInto('tracking_logged_model_param').values(params.map((p) => ({ model_id: modelId, ...p }))).execute();
    });
    return (await this.get(modelId))!;
  }

  /** The model, or undefined; a deleted one only with `allowDeleted`. */
  async get(modelId: string, options: { allowDeleted?: boolean } = {}): Promise<LoggedModel | undefined> {
    if (!isModelId(modelId)) return undefined;
    const row = await this.db.selectFrom('tracking_logged_model').selectAll().where('model_id', '=', modelId).executeTakeFirst();
    if (!row || (row.lifecycle_stage !== 'active' && !options.allowDeleted)) return undefined;
    return (await withTagsAndParams(this.db, [row]))[0];
  }

  async search(request: SearchLoggedModelsRequest): Promise<Page<LoggedModel>> {
    const page = await searchLoggedModels(this.db, this.dialect, request);
    return { ...page, items: await withTagsAndParams(this.db, page.items) };
  }

  /** Sets the final status (READY or UPLOAD_FAILED); INVALID_ARGUMENT for PENDING. */
  async finalize(modelId: string, status: LoggedModelStatus): Promise<LoggedModel> {
    if (!LOGGED_MODEL_STATUSES.includes(status) || status === 'PENDING') {
      throw new LoomError('INVALID_ARGUMENT', `a logged model is finalized as READY or UPLOAD_FAILED, not ${JSON.stringify(status)}`, { field: 'status' });
    }
    await this.activeRow(modelId);
    await this.db.updateTable('tracking_logged_model').set({ status, last_updated_time: Date.now() }).where('model_id', '=', modelId).execute();
    return (await this.get(modelId))!;
  }

  /** Marks it deleted (its files stay, as in MLflow); it is then found only with `allowDeleted`. */
  async delete(modelId: string): Promise<void> {
    await this.activeRow(modelId);
    await this.db.updateTable('tracking_logged_model').set({ lifecycle_stage: 'deleted', last_updated_time: Date.now() }).where('model_id', '=', modelId).execute();
  }

  async setTags(modelId: string, tags: Record<string, string>): Promise<void> {
    const rows = checkedPairs(tags, 'tags', MAX_TAG_VALUE_LENGTH).map((t) => ({ model_id: modelId, ...t }));
    await this.activeRow(modelId);
    await this.db.transaction().execute(async (trx) => {
      for (const row of rows) {
        await trx.insertInto('tracking_logged_model_tag').values(row).onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: row.value })).execute();
      }
      await trx.updateTable('tracking_logged_model').set({ last_updated_time: Date.now() }).where('model_id', '=', modelId).execute();
    });
  }

  async deleteTag(modelId: string, key: string): Promise<void> {
    await this.activeRow(modelId);
    const result = await this.db.deleteFrom('tracking_logged_model_tag').where('model_id', '=', modelId).where('key', '=', key).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new LoomError('NOT_FOUND', `logged model ${modelId} has no tag ${JSON.stringify(key)}`, { field: 'tag_key' });
  }

  /** Params are immutable, as a run's are: the same value again is fine, another is INVALID_ARGUMENT and nothing is written. */
  async logParams(modelId: string, params: Record<string, string>): Promise<void> {
    const rows = checkedPairs(params, 'params', MAX_PARAM_VALUE_LENGTH);
    await this.activeRow(modelId);
    await this.db.transaction().execute(async (trx) => {
      const existing = new Map(
        rows.length === 0 ? [] : (await trx.selectFrom('tracking_logged_model_param').select(['key', 'value']).where('model_id', '=', modelId).where('key', 'in', rows.map((r) => r.key)).execute()).map((r) => [r.key, r.value]),
      );
      for (const row of rows) {
        const old = existing.get(row.key);
        if (old !== undefined && old !== row.value) {
          throw new LoomError('INVALID_ARGUMENT', `param ${JSON.stringify(row.key)} of logged model ${modelId} is already ${JSON.stringify(old)}; params cannot change`, { field: 'params', fix: 'log a new model for other params' });
        }
      }
      const fresh = rows.filter((r) => !existing.has(r.key));
      if (fresh.length > 0) await trx.insertInto('tracking_logged_model_param').values(fresh.map((r) => ({ model_id: modelId, ...r }))).execute();
    });
  }

  /** Records datasets a run read; logging the same dataset (name and digest) again replaces its tags. */
  async logInputs(runId: string, inputs: DatasetInput[]): Promise<void> {
    const rows = inputs.map((input, i) => {
      const d = input.dataset;
      const field = `datasets[${i}].dataset`;
      return {
        run_id: runId,
        name: checkedValue(requireName(d.name, `${field}.name`), `${field}.name`, 500),
        digest: checkedValue(requireName(d.digest, `${field}.digest`), `${field}.digest`, 36),
        source_type: checkedValue(requireName(d.sourceType, `${field}.source_type`), `${field}.source_type`, 36),
        source: checkedValue(d.source, `${field}.source`, MAX_DATASET_FIELD),
        schema: checkedValue(d.schema, `${field}.schema`, MAX_DATASET_FIELD),
        profile: checkedValue(d.profile, `${field}.profile`, MAX_DATASET_PROFILE),
        tags: JSON.stringify(Object.fromEntries(checkedPairs(input.tags, `datasets[${i}].tags`, 500).map((t) => [t.key, t.value]))),
        logged_at: Date.now(),
      };
    });
    await this.activeRun(runId);
    await this.db.transaction().execute(async (trx) => {
      for (const row of rows) {
        await trx.insertInto('tracking_dataset_input').values(row).onConflict((oc) => oc.columns(['run_id', 'name', 'digest']).doUpdateSet({ tags: row.tags })).execute();
      }
    });
  }

  /** Records models a run produced; NOT_FOUND for a model that does not exist. */
  async logOutputs(runId: string, outputs: ModelOutput[]): Promise<void> {
    await this.activeRun(runId);
    for (const output of outputs) await this.activeRow(output.modelId);
    await this.db.transaction().execute(async (trx) => {
      for (const output of outputs) {
        if (!Number.isSafeInteger(output.step)) throw new LoomError('INVALID_ARGUMENT', 'models[].step must be an integer', { field: 'models' });
        const row = { run_id: runId, model_id: output.modelId, step: output.step };
        await trx.insertInto('tracking_model_output').values(row).onConflict((oc) => oc.columns(['run_id', 'model_id']).doUpdateSet({ step: row.step })).execute();
      }
    });
  }

  private async activeRow(modelId: string): Promise<Selectable<TrackingLoggedModelTable>> {
    const row = isModelId(modelId) ? await this.db.selectFrom('tracking_logged_model').selectAll().where('model_id', '=', modelId).executeTakeFirst() : undefined;
    if (!row || row.lifecycle_stage !== 'active') throw notFoundModel(modelId);
    return row;
  }

  private async activeRun(runId: string): Promise<void> {
    const run = isRunId(runId) ? await this.db.selectFrom('tracking_run').select('lifecycle_stage').where('run_id', '=', runId).executeTakeFirst() : undefined;
    if (!run) throw notFoundRun(runId);
    if (run.lifecycle_stage !== 'active') throw new LoomError('INVALID_ARGUMENT', `run ${runId} is deleted; inputs and outputs can only be logged to an active run`, { field: 'run_id', fix: 'restore the run first (runs/restore)' });
  }
}

/** Logged models with their tags and params, one query each per chunk. */
async function withTagsAndParams(db: TrackingKysely, rows: Selectable<TrackingLoggedModelTable>[]): Promise<LoggedModel[]> {
  const extra = new Map(rows.map((r) => [r.model_id, { tags: {} as Record<string, string>, params: {} as Record<string, string> }]));
  for (const ids of chunks([...extra.keys()], IN_LIST_CHUNK)) {
    const [tags, params] = await Promise.all([
      db.selectFrom('tracking_logged_model_tag').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      db.selectFrom('tracking_logged_model_param').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
    ]);
    for (const t of tags) extra.get(t.model_id)!.tags[t.key] = t.value;
    for (const p of params) extra.get(p.model_id)!.params[p.key] = p.value;
  }
  return rows.map((row) => ({
    modelId: row.model_id,
    experimentId: String(row.experiment_id),
    name: row.name,
    artifactLocation: row.artifact_location,
    status: row.status as LoggedModelStatus,
    modelType: row.model_type,
    sourceRunId: row.source_run_id,
    lifecycleStage: row.lifecycle_stage as LoggedModel['lifecycleStage'],
    creationTime: Number(row.creation_time),
    lastUpdatedTime: Number(row.last_updated_time),
    ...extra.get(row.model_id)!,
  }));
}
