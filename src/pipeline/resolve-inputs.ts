/**
 * Turns a step's input references into artifacts: outputs of finished steps, the
 * artifact behind a registry alias (resolved now, so a run compares with the champion
 * of the moment it runs), or another span of a step's output (span N-1 for drift).
 */
import { LoomError } from '../core/errors.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Artifact } from '../metadata/types.js';
import type { RegistryStore } from '../registry/store.js';
import type { AliasRef, InputRef, SpanRef, StepDef } from './dsl.js';

export type FinishedOutputs = (step: string, output: string) => Artifact | undefined;

/** What resolving reads: lineage and the registry's aliases. */
export interface ResolveStores {
  metadata: MetadataStore;
  registry: RegistryStore;
}

export async function resolveInputs(
  step: StepDef,
  outputsOf: FinishedOutputs,
  db: ResolveStores,
): Promise<Record<string, Artifact | undefined>> {
  const resolved: Record<string, Artifact | undefined> = {};
  for (const [name, ref] of Object.entries(step.inputs)) {
    resolved[name] = await resolveRef(ref, outputsOf, db);
  }
  return resolved;
}

async function resolveRef(ref: InputRef, outputsOf: FinishedOutputs, db: ResolveStores): Promise<Artifact | undefined> {
  if (ref.kind === 'output') return outputsOf(ref.step, ref.output);
  if (ref.kind === 'span') return resolveSpan(ref, outputsOf, db);
  return resolveAlias(ref, outputsOf, db);
}

async function resolveAlias(ref: AliasRef, outputsOf: FinishedOutputs, db: ResolveStores): Promise<Artifact | undefined> {
  const version = await db.registry.getVersionByAlias(ref.modelName, ref.alias);
  if (!version || version.artifactId === null) return undefined;
  const [artifact] = await db.metadata.getArtifacts([version.artifactId]);
  if (!artifact) return undefined;
  if (ref.unlessSameAs) {
    const candidate = outputsOf(ref.unlessSameAs.step, ref.unlessSameAs.output);
    if (candidate && candidate.fingerprint === artifact.fingerprint) return undefined;
  }
  return artifact;
}

/**
 * Finds another span among the artifacts the same step of the same pipeline made before,
 * through the metadata store's existing queries: the pipeline context of the execution
 * that made this run's artifact, that context's artifacts of the type, and its
 * executions (to keep those made by the same step). Ties on the span go to the newest.
 * An artifact without a `span` property (statistics of a span) takes the span of the
 * data it was made from (`spanOf`), so `p.previousSpan(statistics.outputs.statistics)`
 * works as well as on the ingest output.
 */
async function resolveSpan(ref: SpanRef, outputsOf: FinishedOutputs, db: ResolveStores): Promise<Artifact | undefined> {
  const current = outputsOf(ref.of.step, ref.of.output);
  if (!current) return undefined;
  const { metadata } = db;
  const span = await spanOf(current, db);
  if (span === undefined) {
    throw new LoomError('FAILED_PRECONDITION', `"${ref.of.step}.${ref.of.output}" has no span number, nor data with one upstream, so it has no ${ref.pick} span`, {
      fix: 'resolve spans of an ingest output (Examples records its span) or of an artifact made from one',
    });
  }
  const producers = (await metadata.getEvents({ artifactIds: [current.id] })).filter((e) => e.type === 'OUTPUT').map((e) => e.executionId);
  const contexts = (await Promise.all(producers.map((id) => metadata.getContextsOfExecution(id)))).flat();
  const pipeline = contexts.find((c) => c.typeName === 'pipeline');
  if (!pipeline) return ref.pick === 'latest' ? current : undefined;

  const stepOf = new Map<number, string>();
  for await (const execution of pages((pageToken) => metadata.listExecutions({ contextId: pipeline.id, pageSize: 1000, pageToken }))) {
    stepOf.set(execution.id, execution.stepName);
  }
  const live: Artifact[] = [];
  for await (const artifact of pages((pageToken) => metadata.listArtifacts({ typeName: current.typeName, contextId: pipeline.id, pageSize: 1000, pageToken }))) {
    if (artifact.state === 'LIVE' && artifact.id !== current.id) live.push(artifact);
  }
  const madeBy = new Map<number, Set<string>>();
  for (const event of await metadata.getEvents({ artifactIds: live.map((a) => a.id) })) {
    const step = stepOf.get(event.executionId);
    if (event.type === 'OUTPUT' && event.name === ref.of.output && step) madeBy.set(event.artifactId, (madeBy.get(event.artifactId) ?? new Set()).add(step));
  }
  const spans = new Map<number, number>([[current.id, span]]);
  for (const artifact of live.filter((a) => madeBy.get(a.id)?.has(ref.of.step))) {
    const other = await spanOf(artifact, db);
    if (other !== undefined && (ref.pick === 'previous' ? other < span : other >= span)) spans.set(artifact.id, other);
  }
  if (ref.pick === 'previous') spans.delete(current.id);
  const chosen = [current, ...live].filter((a) => spans.has(a.id));
  chosen.sort((a, b) => spans.get(b.id)! - spans.get(a.id)! || b.createdAt - a.createdAt || b.id - a.id);
  return chosen[0];
}

/**
 * The span an artifact covers: its own `span` property, or the highest span among the
 * artifacts nearest upstream that have one (up to three steps back).
 */
export async function spanOf(artifact: Artifact, db: ResolveStores): Promise<number | undefined> {
  if (typeof artifact.properties.span === 'number') return artifact.properties.span;
  for (let hops = 1; hops <= 3; hops += 1) {
    const graph = await db.metadata.lineage(artifact.id, { direction: 'upstream', maxHops: hops });
    const spans = graph.artifacts.filter((a) => a.id !== artifact.id && typeof a.properties.span === 'number').map((a) => a.properties.span as number);
    if (spans.length > 0) return Math.max(...spans);
  }
  return undefined;
}

async function* pages<T>(list: (pageToken: string | undefined) => Promise<{ items: T[]; nextPageToken?: string }>): AsyncGenerator<T> {
  let token: string | undefined;
  do {
    const page = await list(token);
    yield* page.items;
    token = page.nextPageToken;
  } while (token);
}
