/**
 * What a pipeline step's executor gets for live tracking: a narrow logger, not the store.
 * The orchestrator makes one per step attempt; the tracking run is created on the first
 * write (steps that log nothing make no run), tagged with the pipeline run and the
 * metadata execution it belongs to, and ended FINISHED or FAILED with the attempt.
 *
 * Usage (in an executor): `await services.tracking?.logMetrics({ loss }, { step: epoch })`
 */
import { isLoomError } from '../core/errors.js';
import { currentOwner } from '../core/process-owner.js';
import type { TrackingStore } from './store.js';
import type { RunStatus } from './types.js';

export interface TrackingLogger {
  /** Logs one point of each metric at this step (an epoch, or a number of batches). */
  logMetrics(metrics: Record<string, number>, options: { step: number; timestamp?: number }): Promise<void>;
  /** Logs parameters once; a changed value for a logged key is INVALID_ARGUMENT. */
  logParams(params: Record<string, string | number | boolean>): Promise<void>;
  setTags(tags: Record<string, string>): Promise<void>;
  /** A nested run (MLflow's `mlflow.parentRunId`), e.g. one per trial of a tuning study. */
  childRun(runName: string): Promise<ChildRunLogger>;
}

/** A nested run's logger; the caller ends it. */
export interface ChildRunLogger extends Omit<TrackingLogger, 'childRun'> {
  end(status: Extract<RunStatus, 'FINISHED' | 'FAILED' | 'KILLED'>): Promise<void>;
}

/** MLflow's tag linking a nested run to its parent. */
export const PARENT_RUN_TAG = 'mlflow.parentRunId';

/** Tags linking a tracking run to the pipeline execution that made it. */
export const EXECUTION_TAG = 'loom.execution_id';
export const PIPELINE_RUN_TAG = 'loom.pipeline_run';
export const PIPELINE_TAG = 'loom.pipeline';
export const STEP_TAG = 'loom.step';

export interface StepRunIdentity {
  /** The experiment the run goes to (created if missing): the pipeline's name. */
  experimentName: string;
  runName: string;
  tags: Record<string, string>;
}

/** Writes params, metrics and tags to one run, each call one batch. */
class RunWriter {
  constructor(
    protected readonly store: TrackingStore,
    private readonly runIdOf: () => Promise<string>,
  ) {}

  async logMetrics(metrics: Record<string, number>, options: { step: number; timestamp?: number }): Promise<void> {
    const timestamp = options.timestamp ?? Date.now();
    const points = Object.entries(metrics).map(([key, value]) => ({ key, value, step: options.step, timestamp }));
    await this.store.logBatch(await this.runIdOf(), { metrics: points });
  }

  async logParams(params: Record<string, string | number | boolean>): Promise<void> {
    await this.store.logBatch(await this.runIdOf(), { params: Object.entries(params).map(([key, value]) => ({ key, value: String(value) })) });
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    await this.store.logBatch(await this.runIdOf(), { tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });
  }
}

/** A TrackingLogger for one step attempt, writing to a run it creates on first use. */
export class StepTrackingLogger extends RunWriter implements TrackingLogger {
  private run?: Promise<string>;

  constructor(
    store: TrackingStore,
    private readonly identity: StepRunIdentity,
  ) {
    super(store, () => this.ensureRun());
  }

  /** The run id, once something was logged. */
  async runId(): Promise<string | undefined> {
    return this.run;
  }

  /** Ends the run, if one was started, with the attempt's outcome. */
  async end(status: Extract<RunStatus, 'FINISHED' | 'FAILED'>): Promise<void> {
    if (!this.run) return;
    await this.store.updateRun(await this.run, { status, endTime: Date.now() });
  }

  async childRun(runName: string): Promise<ChildRunLogger> {
    const parentId = await this.ensureRun();
    const experimentId = await experimentIdFor(this.store, this.identity.experimentName);
    const child = await this.store.createRun({ experimentId, runName, tags: { ...this.identity.tags, [PARENT_RUN_TAG]: parentId }, userId: 'loom', owner: currentOwner() });
    const runId = child.info.runId;
    const writer = new RunWriter(this.store, async () => runId);
    return {
      logMetrics: (metrics, options) => writer.logMetrics(metrics, options),
      logParams: (params) => writer.logParams(params),
      setTags: (tags) => writer.setTags(tags),
      end: async (status) => {
        await this.store.updateRun(runId, { status, endTime: Date.now() });
      },
    };
  }

  /** The run id, creating the run if nothing was logged yet (for programs that log to it over REST). */
  ensureRun(): Promise<string> {
    this.run ??= (async () => {
      const experimentId = await experimentIdFor(this.store, this.identity.experimentName);
      const run = await this.store.createRun({ experimentId, runName: this.identity.runName, tags: this.identity.tags, userId: 'loom', owner: currentOwner() });
      return run.info.runId;
    })();
    return this.run;
  }
}

/** The experiment's id, creating it; two steps creating it at once both get the one that won. */
export async function experimentIdFor(store: TrackingStore, name: string): Promise<string> {
  const found = await store.getExperimentByName(name);
  if (found) return found.experimentId;
  try {
    return (await store.createExperiment({ name })).experimentId;
  } catch (error) {
    if (!isLoomError(error) || error.code !== 'ALREADY_EXISTS') throw error;
    return (await store.getExperimentByName(name))!.experimentId;
  }
}
