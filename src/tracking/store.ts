/**
 * The tracking store interface; one Kysely implementation serves SQLite and PostgreSQL
 * and both pass `store.contract.ts`. It shares the Loom database with the metadata store
 * and the registry. Writes to a run go through `logBatch`; `log.ts` adds the one-item
 * conveniences (logMetric, logParam, setTag) on top.
 */
import { LoomError } from '../core/errors.js';
import type { Page } from '../metadata/types.js';
import type { MetricColumns } from './metric-columns.js';
import type {
  Experiment,
  LogBatch,
  Metric,
  NewExperiment,
  NewRun,
  Run,
  RunInfo,
  RunUpdate,
  SearchExperimentsRequest,
  SearchRunsRequest,
} from './types.js';
import type { DatasetInput, LoggedModel, LoggedModelStatus, ModelOutput, NewLoggedModel, SearchLoggedModelsRequest } from './logged-model-types.js';

export interface TrackingStore {
  /** ALREADY_EXISTS if the name is taken (deleted experiments keep their names, as in MLflow). */
  createExperiment(experiment: NewExperiment): Promise<Experiment>;
  getExperiment(experimentId: string): Promise<Experiment | undefined>;
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  searchExperiments(request: SearchExperimentsRequest): Promise<Page<Experiment>>;
  /** NOT_FOUND for an unknown id; ALREADY_EXISTS if the new name is taken. */
  renameExperiment(experimentId: string, newName: string): Promise<Experiment>;
  setExperimentTag(experimentId: string, key: string, value: string): Promise<void>;
  /** Marks the experiment (and its runs) deleted; `restoreExperiment` undoes it. */
  deleteExperiment(experimentId: string): Promise<void>;
  restoreExperiment(experimentId: string): Promise<void>;

  /** Starts a run (RUNNING unless told) with a new run id. NOT_FOUND for an unknown experiment. */
  createRun(run: NewRun): Promise<Run>;
  getRun(runId: string): Promise<Run | undefined>;
  updateRun(runId: string, update: RunUpdate): Promise<RunInfo>;
  deleteRun(runId: string): Promise<void>;
  /**
   * Marks FAILED (ended now, the reason in the `loom.failureReason` tag) every RUNNING run
   * whose owner process on this host has exited; returns those runs' ids. Runs without an
   * owner, or owned on another host, are left alone.
   */
  failAbandonedRuns(): Promise<string[]>;
  restoreRun(runId: string): Promise<void>;

  /**
   * Writes metrics, params and tags to an active run in one transaction. Params are
   * immutable: logging a key again with another value is INVALID_ARGUMENT and nothing
   * of the batch is written. NOT_FOUND for an unknown run.
   */
  logBatch(runId: string, batch: LogBatch): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  /** Every point of one metric, by step then timestamp. */
  getMetricHistory(runId: string, key: string, request?: { maxResults?: number; pageToken?: string }): Promise<Page<Metric>>;
  /**
   * Every point of one metric as columns, in `getMetricHistory`'s order, without an object per
   * point (for charts of long histories). Empty columns for a key the run lacks; NOT_FOUND for an unknown run.
   */
  getMetricColumns(runId: string, key: string): Promise<MetricColumns>;
  /** Runs of the experiments matching the filter, in pages; INVALID_ARGUMENT for a filter it cannot parse. */
  searchRuns(request: SearchRunsRequest): Promise<Page<Run>>;

  /** Records datasets a run read (MLflow's log-inputs); NOT_FOUND for an unknown run. */
  logInputs(runId: string, inputs: DatasetInput[]): Promise<void>;
  /** Records models a run produced (MLflow's log-outputs); NOT_FOUND for an unknown run or model. */
  logOutputs(runId: string, outputs: ModelOutput[]): Promise<void>;

  /** A PENDING logged model in an active experiment. NOT_FOUND for an unknown experiment or source run. */
  createLoggedModel(model: NewLoggedModel): Promise<LoggedModel>;
  /** Undefined for an unknown id, and for a deleted model unless `allowDeleted`. */
  getLoggedModel(modelId: string, options?: { allowDeleted?: boolean }): Promise<LoggedModel | undefined>;
  searchLoggedModels(request: SearchLoggedModelsRequest): Promise<Page<LoggedModel>>;
  /** READY or UPLOAD_FAILED. */
  finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel>;
  deleteLoggedModel(modelId: string): Promise<void>;
  setLoggedModelTags(modelId: string, tags: Record<string, string>): Promise<void>;
  /** NOT_FOUND when the model has no such tag. */
  deleteLoggedModelTag(modelId: string, key: string): Promise<void>;
  /** Params are set once; another value for a key is INVALID_ARGUMENT. */
  logLoggedModelParams(modelId: string, params: Record<string, string>): Promise<void>;

  close(): Promise<void>;
}

/** The NOT_FOUND every reader of runs gives for an unknown id; `field` names where the id came from. */
export function notFoundRun(runId: string, field = 'run_id'): LoomError {
  return new LoomError('NOT_FOUND', `no run with id ${JSON.stringify(runId)}`, { field, fix: 'list runs with `loom track ls`' });
}

/** The run with this id, or NOT_FOUND (see `notFoundRun`). */
export async function requireRun(tracking: TrackingStore, runId: string, field?: string): Promise<Run> {
  const run = await tracking.getRun(runId);
  if (!run) throw notFoundRun(runId, field);
  return run;
}
