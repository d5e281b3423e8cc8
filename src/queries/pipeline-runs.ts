/**
 * Pipeline runs as people look at them: a page of runs, newest first (`loom runs`), and
 * one run with every step's state, timing, parameters and artifacts (`loom runs show`).
 * Read models over the metadata store, shared by the CLI and the HTTP API.
 *
 * Usage: `const { run, steps } = await showPipelineRun(platform, runId);`
 */
import { LoomError } from '../core/errors.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Artifact, Context, Execution, Page } from '../metadata/types.js';
import type { PipelineRunSummary } from './views/pipeline-runs.js';

/** The stores the run queries read. */
export interface PipelineRunStores {
  metadata: MetadataStore;
}

// The answer's type lives in views/ (no Node) so the dashboard shares it; re-exported for the server's users.
export type { PipelineRunSummary } from './views/pipeline-runs.js';

/** One step of a run: its execution, and the artifacts it read and wrote by input/output name. */
export interface PipelineRunStep {
  executionId: number;
  step: string;
  component: string;
  state: string;
  attempts: number;
  durationMs: number | null;
  parameters: unknown;
  error: string | null;
  reason: unknown;
  inputs: { name: string; artifact: Artifact | undefined }[];
  outputs: { name: string; artifact: Artifact | undefined }[];
}

/** A page of pipeline runs, newest first. */
export async function listPipelineRuns(stores: PipelineRunStores, options: { limit: number; pageToken?: string }): Promise<Page<PipelineRunSummary>> {
  const page = await stores.metadata.listContexts({ typeName: 'pipeline_run', pageSize: options.limit, pageToken: options.pageToken });
  return { items: page.items.map(runSummary), nextPageToken: page.nextPageToken };
}

/** One run and its steps in execution order; NOT_FOUND when no run has that id. */
export async function showPipelineRun(stores: PipelineRunStores, runId: string): Promise<{ run: PipelineRunSummary; steps: PipelineRunStep[] }> {
  const { context, executions } = await runExecutions(stores, runId);
  const events = await stores.metadata.getEvents({ executionIds: executions.map((e) => e.id) });
  const artifacts = new Map((await stores.metadata.getArtifacts([...new Set(events.map((e) => e.artifactId))])).map((a) => [a.id, a]));
  const steps = executions.map((e) => ({
    executionId: e.id,
    step: e.stepName,
    component: e.typeName,
    state: e.state,
    attempts: e.attempts,
    durationMs: e.endedAt && e.startedAt ? e.endedAt - e.startedAt : null,
    parameters: e.parameters,
    error: e.error,
    reason: e.properties.reason ?? null,
    inputs: events.filter((ev) => ev.executionId === e.id && ev.type === 'INPUT').map((ev) => ({ name: ev.name, artifact: artifacts.get(ev.artifactId) })),
    outputs: events.filter((ev) => ev.executionId === e.id && ev.type === 'OUTPUT').map((ev) => ({ name: ev.name, artifact: artifacts.get(ev.artifactId) })),
  }));
  return { run: runSummary(context), steps };
}

/** A run's context and its executions in execution order; NOT_FOUND when no run has that id. */
export async function runExecutions(stores: PipelineRunStores, runId: string): Promise<{ context: Context; executions: Execution[] }> {
  const context = await stores.metadata.findContext('pipeline_run', runId);
  if (!context) throw new LoomError('NOT_FOUND', `no pipeline run "${runId}"`, { fix: 'list runs with `loom runs`' });
  const executions = (await stores.metadata.listExecutions({ contextId: context.id, pageSize: 1000 })).items.sort((a, b) => a.id - b.id);
  return { context, executions };
}

function runSummary(context: Context): PipelineRunSummary {
  const p = context.properties;
  return {
    runId: context.name,
    pipeline: String(p.pipeline ?? ''),
    state: String(p.state ?? ''),
    startedAt: typeof p.startedAt === 'number' ? p.startedAt : null,
    endedAt: typeof p.endedAt === 'number' ? p.endedAt : null,
    codeVersion: p.codeVersion ?? null,
  };
}
