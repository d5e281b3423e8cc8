/**
 * The one TrackingStore implementation, over Kysely, sharing the Loom database with the
 * metadata and registry stores. Each write is one transaction (BEGIN IMMEDIATE on
 * SQLite), and a run's values are only ever written through `writeBatch`; concurrent
 * log-batches share a transaction (group-commit.ts).
 *
 * Usage: `const { tracking } = await openPlatform(loadConfig()); const run = await tracking.createRun({ experimentId: '0' })`
 */
import { randomUUID } from 'node:crypto';
import { LoomError } from '../core/errors.js';
import { ownerGoneReason, ownerState, parseOwner, processOwnerSchema } from '../core/process-owner.js';
import { dialectOf, type DialectKind } from '../core/sql-dialect.js';
import { fieldPath, parseInput } from '../core/validation.js';
import type { TrackingKysely } from './tracking-tables.js';
import { encodePageToken, requireName } from '../metadata/query-helpers.js';
import type { Page } from '../metadata/types.js';
import { experimentsWithTags, searchExperiments } from './search-experiments.js';
import { checkedMaxResults, offsetOf, searchRuns, withData } from './search-runs.js';
import { notFoundRun, type TrackingStore } from './store.js';
import { checkedKey, checkedValue, experimentIdNumber, isRunId, MAX_TAG_VALUE_LENGTH, toMetric, toRunInfo } from './tracking-rows.js';
import { GroupCommit } from './group-commit.js';
import { readMetricColumns, type MetricColumns } from './metric-columns.js';
import type { DatasetInput, LoggedModel, LoggedModelStatus, ModelOutput, NewLoggedModel, SearchLoggedModelsRequest } from './logged-model-types.js';
import { LoggedModels } from './logged-models.js';
import { checkBatch, writeBatch, type CheckedBatch } from './write-batch.js';
import {
  DEFAULT_EXPERIMENT_ID,
  FAILURE_REASON_TAG,
  RUN_NAME_TAG,
  RUN_STATUSES,
  type Experiment,
  type LogBatch,
  type Metric,
  type NewExperiment,
  type NewRun,
  type Run,
  type RunInfo,
  type RunUpdate,
  type SearchExperimentsRequest,
  type SearchRunsRequest,
} from './types.js';

export class KyselyTrackingStore implements TrackingStore {
  private readonly dialect: DialectKind;
  private readonly batches = new GroupCommit<{ runId: string; batch: CheckedBatch }>((items) => this.writeBatches(items));
  private readonly models: LoggedModels;

  constructor(
    private readonly db: TrackingKysely,
    private readonly onClose: () => Promise<void>,
  ) {
    this.dialect = dialectOf(db);
    this.models = new LoggedModels(db, this.dialect);
  }

  async createExperiment(experiment: NewExperiment): Promise<Experiment> {
    const name = requireName(experiment.name, 'name');
    const tags = Object.entries(experiment.tags ?? {}).map(([key, value]) => ({
      key: checkedKey(key, 'tags'),
      value: checkedValue(value, `tags.${key}`, MAX_TAG_VALUE_LENGTH),
    }));
    const id = await this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      const row = await trx
        .insertInto('tracking_experiment')
        .values({ name, artifact_location: experiment.artifactLocation ?? '', lifecycle_stage: 'active', creation_time: now, last_update_time: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!row) throw new LoomError('ALREADY_EXISTS', `experiment "${name}" already exists`, { field: 'name', fix: 'choose another name, or use the existing experiment' });
      if (!experiment.artifactLocation) {
        // The default location names the id, which exists only after the insert.
        await trx.updateTable('tracking_experiment').set({ artifact_location: `mlflow-artifacts:/${row.id}` }).where('id', '=', row.id).execute();
      }
      if (tags.length > 0) await trx.insertInto('tracking_experiment_tag').values(tags.map((t) => ({ experiment_id: row.id, ...t }))).execute();
      return row.id;
    });
    return (await this.getExperiment(String(id)))!;
  }

  async getExperiment(experimentId: string): Promise<Experiment | undefined> {
    const id = experimentIdNumber(experimentId);
    if (id === undefined) return undefined;
    const row = await this.db.selectFrom('tracking_experiment').selectAll().where('id', '=', id).executeTakeFirst();
    return row && (await experimentsWithTags(this.db, [row]))[0];
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    const row = await this.db.selectFrom('tracking_experiment').selectAll().where('name', '=', name).executeTakeFirst();
    return row && (await experimentsWithTags(this.db, [row]))[0];
  }

  searchExperiments(request: SearchExperimentsRequest): Promise<Page<Experiment>> {
    return searchExperiments(this.db, this.dialect, request);
  }

  async renameExperiment(experimentId: string, newName: string): Promise<Experiment> {
    const name = requireName(newName, 'new_name');
    const id = await this.experimentRow(experimentId);
    const taken = await this.getExperimentByName(name);
    if (taken && taken.experimentId !== experimentId) throw new LoomError('ALREADY_EXISTS', `experiment "${name}" already exists`, { field: 'new_name' });
    await this.db.updateTable('tracking_experiment').set({ name, last_update_time: Date.now() }).where('id', '=', id).execute();
    return (await this.getExperiment(experimentId))!;
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    const id = await this.experimentRow(experimentId);
    const row = { experiment_id: id, key: checkedKey(key, 'key'), value: checkedValue(value, 'value', MAX_TAG_VALUE_LENGTH) };
    await this.db
      .insertInto('tracking_experiment_tag')
      .values(row)
      .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value: row.value }))
      .execute();
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    if (experimentId === DEFAULT_EXPERIMENT_ID) {
      throw new LoomError('FAILED_PRECONDITION', 'the Default experiment (id 0) cannot be deleted', { field: 'experiment_id' });
    }
    await this.setExperimentStage(experimentId, 'deleted');
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    await this.setExperimentStage(experimentId, 'active');
  }

  async createRun(run: NewRun): Promise<Run> {
    const experimentId = run.experimentId ?? DEFAULT_EXPERIMENT_ID;
    const experiment = await this.getExperiment(experimentId);
    if (!experiment) throw notFoundExperiment(experimentId);
    if (experiment.lifecycleStage !== 'active') {
      throw new LoomError('FAILED_PRECONDITION', `experiment ${experimentId} is deleted; runs can only start in an active experiment`, {
        field: 'experiment_id',
        fix: 'restore the experiment first, or use another one',
      });
    }
    const status = run.status ?? 'RUNNING';
    if (!RUN_STATUSES.includes(status)) throw new LoomError('INVALID_ARGUMENT', `status must be one of ${RUN_STATUSES.join(', ')}`, { field: 'status' });
    const owner = run.owner === undefined ? null : parseInput(processOwnerSchema, run.owner, { what: 'owner must be a process owner', name: (path) => fieldPath(['owner', ...path]), field: () => 'owner' });
    const runId = randomUUID().replaceAll('-', '');
    const runName = run.runName || run.tags?.[RUN_NAME_TAG] || `run-${runId.slice(0, 8)}`;
    const batch = checkBatch({ tags: Object.entries({ ...run.tags, [RUN_NAME_TAG]: runName }).map(([key, value]) => ({ key, value })) });
    await this.db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('tracking_run')
        .values({
          run_id: runId,
          experiment_id: Number(experiment.experimentId),
          run_name: runName,
          user_id: run.userId ?? '',
          status,
          start_time: run.startTime ?? Date.now(),
          end_time: null,
          lifecycle_stage: 'active',
          artifact_uri: `${experiment.artifactLocation.replace(/\/+$/, '')}/${runId}/artifacts`,
          owner: owner ? JSON.stringify(owner) : null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await writeBatch(trx, this.dialect, { runId, runKey: id }, batch);
    });
    return (await this.getRun(runId))!;
  }

  async getRun(runId: string): Promise<Run | undefined> {
    if (!isRunId(runId)) return undefined;
    const row = await this.db.selectFrom('tracking_run').selectAll().where('run_id', '=', runId).executeTakeFirst();
    return row && (await withData(this.db, [row]))[0];
  }

  async failAbandonedRuns(): Promise<string[]> {
    const running = await this.db.selectFrom('tracking_run').select(['id', 'run_id', 'owner']).where('status', '=', 'RUNNING').where('owner', 'is not', null).execute();
    const failed: string[] = [];
    for (const row of running) {
      const owner = parseOwner(row.owner);
      if (!owner || ownerState(owner) !== 'gone') continue;
      const ended = await this.db.transaction().execute(async (trx) => {
        // Only while still RUNNING: another command may have ended it meanwhile.
        const result = await trx.updateTable('tracking_run').set({ status: 'FAILED', end_time: Date.now() }).where('id', '=', row.id).where('status', '=', 'RUNNING').executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) return false;
        await writeBatch(trx, this.dialect, { runId: row.run_id, runKey: row.id }, checkBatch({ tags: [{ key: FAILURE_REASON_TAG, value: ownerGoneReason(owner) }] }));
        return true;
      });
      if (ended) failed.push(row.run_id);
    }
    return failed;
  }

  async updateRun(runId: string, update: RunUpdate): Promise<RunInfo> {
    const row = await this.runRow(runId);
    if (update.status !== undefined && !RUN_STATUSES.includes(update.status)) {
      throw new LoomError('INVALID_ARGUMENT', `status must be one of ${RUN_STATUSES.join(', ')}`, { field: 'status' });
    }
    await this.db.transaction().execute(async (trx) => {
      const set: { status?: string; end_time?: number | null; run_name?: string } = {};
      if (update.status !== undefined) set.status = update.status;
      if (update.endTime !== undefined) set.end_time = update.endTime;
      if (update.runName) {
        set.run_name = update.runName;
        await writeBatch(trx, this.dialect, { runId, runKey: row.id }, checkBatch({ tags: [{ key: RUN_NAME_TAG, value: update.runName }] }));
      }
      if (Object.keys(set).length > 0) await trx.updateTable('tracking_run').set(set).where('run_id', '=', runId).execute();
    });
    return toRunInfo(await this.runRow(runId));
  }

  async deleteRun(runId: string): Promise<void> {
    await this.runRow(runId);
    await this.db.updateTable('tracking_run').set({ lifecycle_stage: 'deleted' }).where('run_id', '=', runId).execute();
  }

  async restoreRun(runId: string): Promise<void> {
    await this.runRow(runId);
    await this.db.updateTable('tracking_run').set({ lifecycle_stage: 'active' }).where('run_id', '=', runId).execute();
  }

  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    if (!isRunId(runId)) throw notFoundRun(runId);
    await this.batches.submit({ runId, batch: checkBatch(batch) });
  }

  /** Writes queued batches in one transaction, in arrival order (see group-commit.ts). */
  private async writeBatches(items: { runId: string; batch: CheckedBatch }[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const keys = new Map<string, number>();
      for (const { runId, batch } of items) {
        let runKey = keys.get(runId);
        if (runKey === undefined) {
          const run = await trx.selectFrom('tracking_run').select(['id', 'lifecycle_stage']).where('run_id', '=', runId).executeTakeFirst();
          if (!run) throw notFoundRun(runId);
          if (run.lifecycle_stage !== 'active') {
            throw new LoomError('INVALID_ARGUMENT', `run ${runId} is deleted; values can only be logged to an active run`, {
              field: 'run_id',
              fix: 'restore the run first (runs/restore)',
            });
          }
          runKey = run.id;
          keys.set(runId, runKey);
        }
        await writeBatch(trx, this.dialect, { runId, runKey }, batch);
      }
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.runRow(runId);
    const result = await this.db.deleteFrom('tracking_tag').where('run_id', '=', runId).where('key', '=', key).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new LoomError('NOT_FOUND', `run ${runId} has no tag "${key}"`, { field: 'key' });
  }

  async getMetricHistory(runId: string, key: string, request: { maxResults?: number; pageToken?: string } = {}): Promise<Page<Metric>> {
    const run = await this.runRow(runId);
    const size = checkedMaxResults(request.maxResults, 1_000_000, 100_000);
    const offset = offsetOf(request.pageToken);
    const rows = await this.db
      .selectFrom('tracking_metric')
      .select(['key', 'value', 'is_nan', 'timestamp', 'step'])
      .where('run_key', '=', run.id)
      .where('key', '=', key)
      .orderBy('step')
      .orderBy('timestamp')
      .offset(offset)
      .limit(size + 1)
      .execute();
    const page: Page<Metric> = { items: rows.slice(0, size).map(toMetric) };
    if (rows.length > size) page.nextPageToken = encodePageToken(offset + size);
    return page;
  }

  async getMetricColumns(runId: string, key: string): Promise<MetricColumns> {
    const run = await this.runRow(runId);
    return readMetricColumns(this.db, this.dialect, run.id, key);
  }

  searchRuns(request: SearchRunsRequest): Promise<Page<Run>> {
    return searchRuns(this.db, this.dialect, request);
  }

  // Logged models and run inputs/outputs live in logged-models.ts.
  logInputs = (runId: string, inputs: DatasetInput[]): Promise<void> => this.models.logInputs(runId, inputs);
  logOutputs = (runId: string, outputs: ModelOutput[]): Promise<void> => this.models.logOutputs(runId, outputs);
  createLoggedModel = (model: NewLoggedModel): Promise<LoggedModel> => this.models.create(model);
  getLoggedModel = (modelId: string, options?: { allowDeleted?: boolean }): Promise<LoggedModel | undefined> => this.models.get(modelId, options);
  searchLoggedModels = (request: SearchLoggedModelsRequest): Promise<Page<LoggedModel>> => this.models.search(request);
  finalizeLoggedModel = (modelId: string, status: LoggedModelStatus): Promise<LoggedModel> => this.models.finalize(modelId, status);
  deleteLoggedModel = (modelId: string): Promise<void> => this.models.delete(modelId);
  setLoggedModelTags = (modelId: string, tags: Record<string, string>): Promise<void> => this.models.setTags(modelId, tags);
  deleteLoggedModelTag = (modelId: string, key: string): Promise<void> => this.models.deleteTag(modelId, key);
  logLoggedModelParams = (modelId: string, params: Record<string, string>): Promise<void> => this.models.logParams(modelId, params);

  async close(): Promise<void> {
    await this.onClose();
  }

  private async experimentRow(experimentId: string): Promise<number> {
    const id = experimentIdNumber(experimentId);
    const row = id === undefined ? undefined : await this.db.selectFrom('tracking_experiment').select('id').where('id', '=', id).executeTakeFirst();
    if (!row) throw notFoundExperiment(experimentId);
    return row.id;
  }

  private async setExperimentStage(experimentId: string, stage: 'active' | 'deleted'): Promise<void> {
    const id = await this.experimentRow(experimentId);
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('tracking_experiment').set({ lifecycle_stage: stage, last_update_time: Date.now() }).where('id', '=', id).execute();
      // As in MLflow, deleting an experiment deletes its runs, and restoring it restores them.
      await trx.updateTable('tracking_run').set({ lifecycle_stage: stage }).where('experiment_id', '=', id).execute();
    });
  }

  private async runRow(runId: string) {
    const row = isRunId(runId) ? await this.db.selectFrom('tracking_run').selectAll().where('run_id', '=', runId).executeTakeFirst() : undefined;
    if (!row) throw notFoundRun(runId);
    return row;
  }
}

function notFoundExperiment(id: string): LoomError {
  return new LoomError('NOT_FOUND', `no experiment with id ${JSON.stringify(id)}`, { field: 'experiment_id', fix: 'list experiments with `loom track ls` or experiments/search' });
}

