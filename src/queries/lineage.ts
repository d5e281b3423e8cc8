/**
 * Where a registered model came from: its data snapshots, code versions and the
 * executions that made it, newest first. A read model over the registry and the
 * metadata store, shared by `loom lineage` and the HTTP API.
 *
 * Usage: `const report = await modelLineage(platform, 'flights@champion', 30);`
 */
import { LoomError } from '../core/errors.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Artifact, Execution } from '../metadata/types.js';
import { parseModelRef, resolveModelVersion } from '../registry/model-ref.js';
import type { RegistryStore } from '../registry/store.js';
import { modelDecisions, type ModelDecision } from './model-decisions.js';

/** The stores the lineage query reads. */
export interface LineageStores {
  metadata: MetadataStore;
  registry: RegistryStore;
}

export interface ModelLineage {
  model: { name: string; version: number; ref: string; artifactId: number; uri: string };
  dataSnapshots: { artifactId: number; contentHash: string; source: string; span: string; rowCounts: unknown }[];
  codeVersions: { commit: string | null; dirty: boolean }[];
  /** The executions that made the model, newest first (cached re-runs left out). */
  executions: { id: number; step: string; component: string; state: string; durationMs: number | null; parameters: unknown; inputs: string[]; outputs: string[]; runId: string | null }[];
  /** The alerts and canary decisions about this version, and the alert whose retraining made it. */
  decisions: ModelDecision[];
}

/** The lineage of the version `ref` resolves to, following at most `maxHops` steps upstream. */
export async function modelLineage(stores: LineageStores, ref: string, maxHops: number): Promise<ModelLineage> {
  const version = await resolveModelVersion(parseModelRef(ref), stores.registry);
  if (version.artifactId === null) {
    throw new LoomError('FAILED_PRECONDITION', `version ${version.version} of "${version.modelName}" was registered without an artifact, so it has no lineage`, {
      fix: 'register models through a pipeline `push` step',
    });
  }
  const graph = await stores.metadata.lineage(version.artifactId, { direction: 'upstream', maxHops });
  const artifacts = new Map(graph.artifacts.map((a) => [a.id, a]));
  const producing = graph.executions.filter((e) => e.state === 'COMPLETE').sort((a, b) => b.id - a.id);
  const describe = (execution: Execution, type: 'INPUT' | 'OUTPUT') =>
    graph.events.filter((e) => e.executionId === execution.id && e.type === type).map((e) => `${e.name}=${label(artifacts.get(e.artifactId))}`);
  // The pipeline run of each step, so a lineage view can open the run it belongs to.
  const runIds = await Promise.all(producing.map(async (e) => (await stores.metadata.getContextsOfExecution(e.id)).find((c) => c.typeName === 'pipeline_run')?.name ?? null));
  const commits = new Map(producing.map((e) => [`${e.codeVersion.commit}:${e.codeVersion.dirty}`, e.codeVersion]));
  return {
    model: { name: version.modelName, version: version.version, ref, artifactId: version.artifactId, uri: version.source },
    dataSnapshots: graph.artifacts
      .filter((a) => a.typeName === 'Examples')
      .map((a) => ({ artifactId: a.id, contentHash: String(a.properties.contentHash ?? a.fingerprint), source: String(a.properties.source ?? ''), span: String(a.properties.span ?? ''), rowCounts: a.properties.rowCounts ?? null })),
    codeVersions: [...commits.values()],
    executions: producing.map((e, i) => ({
      id: e.id,
      step: e.stepName,
      component: e.typeName,
      state: e.state,
      durationMs: e.endedAt && e.startedAt ? e.endedAt - e.startedAt : null,
      parameters: e.parameters,
      inputs: describe(e, 'INPUT'),
      outputs: describe(e, 'OUTPUT'),
      runId: runIds[i] ?? null,
    })),
    decisions: await modelDecisions(stores.metadata, version.artifactId, producing.map((e) => e.id)),
  };
}

function label(artifact: Artifact | undefined): string {
  return artifact ? `${artifact.typeName}#${artifact.id}` : '?';
}
