/**
 * The run a step belongs to. A pipeline run (and `loom data validate`, recorded as a run of
 * the `data-validate` pipeline) is a `pipeline_run` context inside its `pipeline` context,
 * holding its state and code version; a command that records one step on its own (`loom
 * evaluate`, `loom predict`) has a run id and no contexts.
 *
 * Usage:
 *   const run = await startPipelineRun(metadata, { pipelineName: 'flights', codeVersion });
 *   ... runner.run({ ..., run: run.scope }) ...; await run.finish('COMPLETE');
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../core/json.js';
import { currentOwner } from '../core/process-owner.js';
import type { MetadataStore } from '../metadata/store.js';
import type { CodeVersion } from '../metadata/types.js';
import type { StepRunScope } from './step-runner.js';

/** `<name>-<yyyymmdd-hhmmss>-<6 hex>`: sortable by start, unique without a lookup. */
export function newRunId(name: string, at = Date.now()): string {
  const stamp = new Date(at).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${name}-${stamp}-${randomBytes(3).toString('hex')}`;
}

export interface PipelineRun {
  scope: StepRunScope;
  contextId: number;
  /** Records the final state (and the end time) on the run's context. */
  finish(state: 'COMPLETE' | 'FAILED'): Promise<void>;
}

export async function startPipelineRun(
  metadata: MetadataStore,
  options: { pipelineName: string; codeVersion: CodeVersion; startedAt?: number; properties?: JsonObject },
): Promise<PipelineRun> {
  const startedAt = options.startedAt ?? Date.now();
  const runId = newRunId(options.pipelineName, startedAt);
  const pipeline = await metadata.putContext({ typeName: 'pipeline', name: options.pipelineName });
  const properties: JsonObject = { pipeline: options.pipelineName, startedAt, codeVersion: { ...options.codeVersion }, ...options.properties };
  const run = await metadata.putContext({ typeName: 'pipeline_run', name: runId, properties: { ...properties, state: 'RUNNING', owner: currentOwner() } });
  return {
    scope: { runId, pipelineName: options.pipelineName, contextIds: [pipeline.id, run.id], codeVersion: options.codeVersion },
    contextId: run.id,
    finish: async (state) => {
      await metadata.updateContext(run.id, { ...properties, state, endedAt: Date.now() });
    },
  };
}

/** The scope of a step a command records on its own: no contexts, a run id named after the command. */
export function standaloneScope(name: string, codeVersion: CodeVersion): StepRunScope {
  return { runId: newRunId(name), pipelineName: name, contextIds: [], codeVersion };
}
