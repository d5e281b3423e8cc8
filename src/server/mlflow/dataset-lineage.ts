/**
 * Links the datasets an MLflow run read (`mlflow.log_input`) to Loom dataset versions in the
 * metadata store's lineage. A dataset input names a Loom dataset version when its source's
 * `uri` (or `path`, `url`) is the version's `loom-artifact://sha256/<hex>` URI, or a file inside
 * the version in the artifact store (`<artifacts>/objects/sha256/<hex>/train.parquet`: the path
 * `loom data show` prints, which `mlflow.data.from_pandas(df, source=path)` records as a local
 * source). The run is then an `mlflow-run` execution with an INPUT event on each version it read,
 * so `loom data show` lists it among the version's readers.
 */
import { resolve } from 'node:path';
import { versionGroups } from '../../data/versions.js';
import type { MetadataStore } from '../../metadata/store.js';
import type { DatasetInput } from '../../tracking/logged-model-types.js';

/** The execution type (and step name) an MLflow run gets in the metadata store. */
export const MLFLOW_RUN_EXECUTION = 'mlflow-run';

const ARTIFACT_URI = /^loom-artifact:\/\/sha256\/([0-9a-f]{64})$/;

/** The Loom artifact URI a dataset source names, or undefined (a pure function of the source JSON). */
export function loomArtifactUriOf(source: string, artifactsRoot: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch {
    return undefined;
  }
  const fields = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const location = [fields.uri, fields.path, fields.url].find((v): v is string => typeof v === 'string');
  if (location === undefined) return undefined;
  if (ARTIFACT_URI.test(location)) return location;
  const objects = `${resolve(artifactsRoot)}/objects/sha256/`;
  const path = location.startsWith('file://') ? location.slice('file://'.length) : location;
  if (!path.startsWith('/') || !resolve(path).startsWith(objects)) return undefined;
  const hex = /^([0-9a-f]{64})(\/|$)/.exec(resolve(path).slice(objects.length))?.[1];
  return hex ? `loom-artifact://sha256/${hex}` : undefined;
}

/**
 * Records the run as reading the Loom dataset versions its inputs name; returns the execution's
 * id, or undefined when no input names one (nothing is written then).
 */
export async function linkDatasetInputs(metadata: MetadataStore, runId: string, inputs: DatasetInput[], artifactsRoot: string): Promise<number | undefined> {
  const named = inputs.map((input) => ({ name: input.dataset.name, uri: loomArtifactUriOf(input.dataset.source, artifactsRoot) })).filter((n) => n.uri !== undefined);
  if (named.length === 0) return undefined;
  const byUri = new Map<string, number>();
  for (const group of (await versionGroups({ metadata })).values()) for (const artifact of group) if (!byUri.has(artifact.uri)) byUri.set(artifact.uri, artifact.id);
  const found = named.filter((n) => byUri.has(n.uri!));
  if (found.length === 0) return undefined;
  const now = Date.now();
  const execution = await metadata.createExecution({
    typeName: MLFLOW_RUN_EXECUTION,
    stepName: MLFLOW_RUN_EXECUTION,
    parameters: { mlflowRunId: runId },
    codeVersion: { commit: null, dirty: false },
    state: 'COMPLETE',
    startedAt: now,
    properties: { mlflowRunId: runId },
  });
  await metadata.putEvents(found.map((n) => ({ artifactId: byUri.get(n.uri!)!, executionId: execution.id, type: 'INPUT' as const, name: n.name })));
  return execution.id;
}
