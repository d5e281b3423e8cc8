/**
 * Running a recorded pipeline run again: the same pipeline file (kept with every run that
 * `loom run` and `loom train` start) and the same model its train steps continued, in the
 * platform of the process that asks (the API server), as the principal who asked. The new
 * run's id is known as soon as it is recorded, so a caller can answer at once and watch its
 * steps; the run goes on in the background and `drain()` waits for every run still going.
 *
 * The API route and `loom runs rerun` both go through `request`: the same permission check
 * (a write: editor and up), the same audit entry, the same start.
 *
 * Usage: `const reruns = new PipelineReruns(project); const { runId } = await reruns.request(oldRunId, context);`
 */
import { dirname } from 'node:path';
import { LoomError } from '../core/errors.js';
import { recordChange, type ChangeContext } from '../audit/record-change.js';
import { readCodeVersion } from '../pipeline/code-version.js';
import { loadPipelineFile } from '../pipeline/load-pipeline-file.js';
import { runPipeline, type PipelineRunResult } from '../pipeline/orchestrator.js';
import { tuneComponent } from '../train/tune-component.js';
import type { Platform } from './platform.js';

/** What a re-run repeats: the run, its pipeline file and the model its train steps continued. */
export interface RerunSource {
  runId: string;
  pipelineFile: string;
  warmStartFrom?: string;
}

/**
 * What the API asks of whoever runs pipelines again: the new run's id once it is recorded, and
 * a wait for every run still going. `PipelineReruns` runs them in this process; `loom server`
 * runs each in a process of its own (cli/rerun-processes.ts), so that loading a pipeline file
 * and running its steps never hold up the server's event loop.
 */
export interface Reruns {
  request(runId: string, context?: ChangeContext): Promise<{ runId: string }>;
  drain(): Promise<void>;
}

export class PipelineReruns implements Reruns {
  private readonly going = new Set<Promise<unknown>>();

  constructor(
    private readonly platform: Platform,
    /** Where a background run reports what failed outside its steps (a step's own failure is recorded with the run). */
    private readonly log: (message: string) => void = () => {},
  ) {}

  /**
   * Runs `runId` again as `context`'s principal: authorized as a write and recorded in the audit log
   * (`pipeline.rerun`) before it starts; unguarded without a context. Resolves once the new run is
   * recorded; `finished` settles when it ends.
   */
  async request(runId: string, context?: ChangeContext): Promise<{ runId: string; finished: Promise<PipelineRunResult> }> {
    return this.start(await this.authorizedSource(runId, context), context);
  }

  /** `source(runId)`, authorized as a write of `context`'s principal and recorded in the audit log (unguarded without a context). */
  authorizedSource(runId: string, context?: ChangeContext): Promise<RerunSource> {
    return context ? recordChange(context, { action: 'pipeline.rerun', permission: 'write', target: `pipeline run ${runId}` }, () => this.source(runId)) : this.source(runId);
  }

  /** The recorded run's pipeline file: NOT_FOUND for an unknown run, FAILED_PRECONDITION when it kept none. */
  async source(runId: string): Promise<RerunSource> {
    const context = await this.platform.metadata.findContext('pipeline_run', runId);
    if (!context) throw new LoomError('NOT_FOUND', `no pipeline run "${runId}"`, { field: 'runId', fix: 'list runs with `loom runs` or on the Pipelines page' });
    const { pipelineFile, warmStartFrom } = context.properties;
    if (typeof pipelineFile !== 'string') {
      // `loom tune` keeps no file: its trial budget came from its command line, so the file alone would not repeat it.
      const steps = await this.platform.metadata.listExecutions({ contextId: context.id, pageSize: 1000 });
      if (steps.items.some((step) => step.typeName === tuneComponent.name)) {
        throw new LoomError('FAILED_PRECONDITION', `run "${runId}" was started by \`loom tune\`, whose trial budget came from its command line and is not recorded, so it cannot be run again from here`, {
          fix: 'run the study again with `loom tune <pipeline file> --trials <n>`, or put the budget in the tune step\'s parameters and start it with `loom run <pipeline file>` (such runs can be run again)',
        });
      }
      throw new LoomError('FAILED_PRECONDITION', `run "${runId}" did not record the pipeline file it came from, so it cannot be run again from here`, {
        fix: 'run the pipeline again with `loom run <file>` (runs of `loom run` and `loom train` record their file)',
      });
    }
    return { runId, pipelineFile, ...(typeof warmStartFrom === 'string' ? { warmStartFrom } : {}) };
  }

  /**
   * Loads the pipeline file (its errors come back as they are: NOT_FOUND, INVALID_ARGUMENT) and
   * starts the run as `context`'s principal (unguarded without one); resolves with the new run's id.
   */
  async start(source: RerunSource, context?: ChangeContext): Promise<{ runId: string; finished: Promise<PipelineRunResult> }> {
    const pipeline = await loadPipelineFile(source.pipelineFile);
    const platform = context ? this.platform.actingAs(context) : this.platform;
    let started!: (runId: string) => void;
    const runId = new Promise<string>((resolve) => (started = resolve));
    const run = runPipeline(pipeline, {
      runner: platform.runner,
      checkpointRoot: platform.layout.checkpoints,
      pipelineFile: source.pipelineFile,
      warmStartFrom: source.warmStartFrom,
      rerunOf: source.runId,
      codeVersion: readCodeVersion(dirname(source.pipelineFile)),
      onStart: started,
    });
    const settled = run.then(
      () => undefined,
      (error: unknown) => this.log(`re-run of ${source.runId} failed: ${error instanceof Error ? error.message : String(error)}`),
    );
    this.going.add(settled);
    void settled.finally(() => this.going.delete(settled));
    // A run that fails before it is recorded (the database refused) rejects here instead.
    return { runId: await Promise.race([runId, run.then(() => runId)]), finished: run };
  }

  /** Waits for every run this process started: a server closes its stores only after them. */
  async drain(): Promise<void> {
    await Promise.all([...this.going]);
  }
}
