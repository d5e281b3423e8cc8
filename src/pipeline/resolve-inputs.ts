/**
 * Turns a step's input references into artifacts: outputs of finished steps, or the
 * artifact behind a registry alias (resolved now, so a run compares with the champion
 * of the moment it runs).
 */
import type { LoomDatabase } from '../metadata/database.js';
import type { Artifact } from '../metadata/types.js';
import type { AliasRef, InputRef, StepDef } from './dsl.js';

export type FinishedOutputs = (step: string, output: string) => Artifact | undefined;

export async function resolveInputs(
  step: StepDef,
  outputsOf: FinishedOutputs,
  db: LoomDatabase,
): Promise<Record<string, Artifact | undefined>> {
  const resolved: Record<string, Artifact | undefined> = {};
  for (const [name, ref] of Object.entries(step.inputs)) {
    resolved[name] = await resolveRef(ref, outputsOf, db);
  }
  return resolved;
}

async function resolveRef(ref: InputRef, outputsOf: FinishedOutputs, db: LoomDatabase): Promise<Artifact | undefined> {
  if (ref.kind === 'output') return outputsOf(ref.step, ref.output);
  return resolveAlias(ref, outputsOf, db);
}

async function resolveAlias(ref: AliasRef, outputsOf: FinishedOutputs, db: LoomDatabase): Promise<Artifact | undefined> {
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
