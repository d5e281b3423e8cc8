/**
 * The publisher half of the step runner: staging directories for a step's outputs, the
 * check of an executor's properties against each output type's schema, the commit into
 * the artifact store (or the URI of an output written elsewhere), the one-transaction
 * publish, and the step's checkpoint directory.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKPOINT_FILE } from '../core/checkpoint-files.js';
import { LoomError } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import { pathExists } from '../core/path-exists.js';
import { parseInput } from '../core/validation.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Artifact, NewArtifact } from '../metadata/types.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { ArtifactTypeDef } from './artifact-types.js';
import type { ComponentDef, ExecutorResult } from './component.js';

export interface StagedOutputs {
  dirs: Record<string, string>;
  /** Removes what was not committed. */
  discard(): Promise<void>;
}

export async function stageOutputs(artifacts: ArtifactStore, component: ComponentDef): Promise<StagedOutputs> {
  const dirs: Record<string, string> = {};
  const discard = async () => {
    for (const dir of Object.values(dirs)) await artifacts.discard(dir);
  };
  try {
    for (const name of Object.keys(component.outputs)) dirs[name] = await artifacts.stage();
  } catch (error) {
    await discard();
    throw error;
  }
  return { dirs, discard };
}

/**
 * The properties an executor returned, checked against the type's schema: a component
 * that breaks its type's contract fails here, before anything is published.
 */
export function checkProperties(component: ComponentDef, output: string, type: ArtifactTypeDef, properties: unknown): JsonObject {
  return parseInput(type.schema, properties ?? {}, {
    what: `component "${component.name}" returned ${type.name} properties for "${output}" that its type does not allow`,
    code: 'INTERNAL',
    retryable: false,
    fix: `make the executor of "${component.name}" return what ${type.name} declares in its artifact type`,
  }) as JsonObject;
}

export async function publishAttempt(
  stores: { metadata: MetadataStore; artifacts: ArtifactStore },
  attempt: {
    component: ComponentDef;
    executionId: number;
    contextIds: number[];
    staging: StagedOutputs;
    result: ExecutorResult<Record<string, ArtifactTypeDef>>;
    external: () => Promise<string | null>;
  },
): Promise<Record<string, Artifact>> {
  const { component, result } = attempt;
  const checked = Object.entries(component.outputs).map(([name, type]) => ({ name, type, properties: checkProperties(component, name, type, result.properties[name]) }));
  const outputs: { name: string; artifact: NewArtifact }[] = [];
  for (const { name, type, properties } of checked) {
    const elsewhere = result.external?.[name];
    const { uri, fingerprint } = elsewhere ?? (await stores.artifacts.commit(attempt.staging.dirs[name]!));
    outputs.push({ name, artifact: { typeName: type.name, uri, fingerprint, properties } });
  }
  const failure = result.failure;
  const published = await stores.metadata.publishExecution({
    executionId: attempt.executionId,
    state: failure ? 'FAILED' : 'COMPLETE',
    outputs,
    contextIds: attempt.contextIds,
    properties: { ...result.executionProperties, externalFingerprint: await attempt.external() },
    ...(failure ? { error: new LoomError(failure.code, failure.message, failure.fix ? { fix: failure.fix } : {}).describe() } : {}),
    endedAt: Date.now(),
  });
  return Object.fromEntries(published.outputs.map(({ name, artifact }) => [name, artifact]));
}

/**
 * A step's checkpoint directory is named by its cache key, so running the same step on the
 * same inputs again (after a crash) finds what the killed attempt wrote and continues.
 */
export async function stepCheckpoints(
  request: { stepName: string; checkpointRoot?: string; resumeFrom?: string; log?: (line: string) => void },
  cacheKey: string,
): Promise<{ dir: string; resumeFrom?: string } | undefined> {
  if (!request.checkpointRoot) return undefined;
  const dir = join(request.checkpointRoot, cacheKey);
  // This step's own checkpoint is the newest (a retry, or a crash after resuming); else the one asked for.
  const resumeFrom = (await pathExists(join(dir, CHECKPOINT_FILE))) ? dir : request.resumeFrom;
  if (resumeFrom) request.log?.(`  · ${request.stepName}: continuing from the checkpoint in ${resumeFrom}`);
  return resumeFrom ? { dir, resumeFrom } : { dir };
}

/** A finished step needs its checkpoints no more. */
export async function finishCheckpoints(checkpoints: { dir: string; resumeFrom?: string } | undefined): Promise<void> {
  if (!checkpoints) return;
  for (const finished of new Set([checkpoints.dir, checkpoints.resumeFrom])) if (finished) await rm(finished, { recursive: true, force: true });
}
