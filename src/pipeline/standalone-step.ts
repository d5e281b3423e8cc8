/**
 * One step run outside a pipeline (`loom evaluate`, `loom data validate`), recorded as the
 * orchestrator records a pipeline step: a RUNNING execution with its INPUT events; outputs
 * written into staging directories, committed to the artifact store and published with the
 * execution in one transaction; a failure marks the execution FAILED with its error. The
 * staging directories are always cleaned up, so a failed step leaves nothing half-written.
 *
 * Usage:
 *   const done = await runStandaloneStep(services, { typeName: 'evaluate', stepName: 'evaluate', parameters, inputs },
 *     ['evaluation'], async ({ staging }) => { ...write into staging.evaluation...; return { result, outputs: { evaluation: { typeName, properties } } }; });
 */
import { asLoomError } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import type { LoomDatabase } from './stores.js';
import type { Artifact, CodeVersion } from '../metadata/types.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { readCodeVersion } from './code-version.js';

export interface StandaloneStep {
  typeName: string;
  stepName: string;
  parameters: JsonObject;
  inputs: Array<{ name: string; artifactId: number }>;
  /** Contexts (a pipeline and its run) the execution joins at start and its outputs at publish. */
  contextIds?: number[];
  codeVersion?: CodeVersion;
  startedAt?: number;
}

/** What the step's work returns: its result, and per staged output its type and properties. */
export interface StandaloneWork<T> {
  result: T;
  outputs: Record<string, { typeName: string; properties: JsonObject }>;
  /** Properties of the execution. */
  properties?: JsonObject;
}

export interface StandaloneStepDone<T> {
  result: T;
  executionId: number;
  outputs: Record<string, Artifact>;
}

export async function runStandaloneStep<T>(
  services: { db: LoomDatabase; artifacts: ArtifactStore },
  step: StandaloneStep,
  outputNames: readonly string[],
  work: (context: { executionId: number; staging: Record<string, string> }) => Promise<StandaloneWork<T>>,
): Promise<StandaloneStepDone<T>> {
  const { metadata } = services.db;
  const contextIds = step.contextIds ?? [];
  const execution = await metadata.createExecution({
    typeName: step.typeName,
    stepName: step.stepName,
    parameters: step.parameters,
    codeVersion: step.codeVersion ?? readCodeVersion(process.cwd()),
    state: 'RUNNING',
    startedAt: step.startedAt ?? Date.now(),
  });
  // Joined at start, so a run that is still going (or crashed) lists its execution.
  for (const contextId of contextIds) await metadata.addToContext(contextId, { executionIds: [execution.id] });
  await metadata.putEvents(step.inputs.map((input) => ({ ...input, executionId: execution.id, type: 'INPUT' as const })));

  const staging: Record<string, string> = {};
  try {
    for (const name of outputNames) staging[name] = await services.artifacts.stage();
    const done = await work({ executionId: execution.id, staging });
    const outputs = [];
    for (const name of outputNames) {
      const committed = await services.artifacts.commit(staging[name]!);
      const output = done.outputs[name]!;
      outputs.push({ name, artifact: { typeName: output.typeName, uri: committed.uri, fingerprint: committed.fingerprint, properties: output.properties } });
    }
    const published = await metadata.publishExecution({
      executionId: execution.id,
      state: 'COMPLETE',
      outputs,
      contextIds,
      ...(done.properties ? { properties: done.properties } : {}),
      endedAt: Date.now(),
    });
    return { result: done.result, executionId: execution.id, outputs: Object.fromEntries(published.outputs.map((o) => [o.name, o.artifact])) };
  } catch (error) {
    await metadata.updateExecution(execution.id, { state: 'FAILED', error: asLoomError(error).describe(), endedAt: Date.now() });
    throw error;
  } finally {
    for (const dir of Object.values(staging)) await services.artifacts.discard(dir);
  }
}
