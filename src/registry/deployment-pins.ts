/**
 * Where serving's deployments meet the registry's rules. A deployment pins a version when
 * it names it by number (`flights@3`); references through an alias (`flights@champion`)
 * pin nothing, since the alias itself already counts as a use. A deployment change takes
 * the model's row lock, as alias moves and version deletes do, and checks each pinned
 * version under it: deleting a version and deploying it cannot interleave, so the live
 * deployment never points at a deleted, archived or unREADY version.
 *
 * Usage: inside the deployment's transaction, `await lockDeployedModel(trx, spec)` before writing it.
 */
import type { RegistryKysely } from './registry-tables.js';
import { parseModelRef } from './model-ref.js';
import { checkUsableVersion, lockModel } from './registry-sql.js';

/** The references of a deployment (serving's `DeploymentSpec` and `Deployment` both fit). */
export interface DeploymentRefs {
  modelName: string;
  primary?: string;
  canary?: { ref: string } | null;
  shadow?: string | null;
}

/** A version a deployment pins by number, in the role that pins it. */
export interface PinnedVersion {
  role: 'primary' | 'canary' | 'shadow';
  ref: string;
  version: number;
}

/** The versions of its own model a deployment names by number, in role order. */
export function pinnedVersions(deployment: DeploymentRefs): PinnedVersion[] {
  const roles = [['primary', deployment.primary], ['canary', deployment.canary?.ref], ['shadow', deployment.shadow]] as const;
  const pins: PinnedVersion[] = [];
  for (const [role, ref] of roles) {
    if (!ref) continue;
    const parsed = parseModelRef(ref);
    if (parsed.version !== undefined && parsed.name === deployment.modelName) pins.push({ role, ref, version: parsed.version });
  }
  return pins;
}

/**
 * Locks the deployed model's row in the caller's transaction (NOT_FOUND for a model that is
 * not registered) and checks that every version the deployment pins exists, is READY and
 * is not archived (NOT_FOUND or FAILED_PRECONDITION otherwise).
 */
export async function lockDeployedModel(trx: RegistryKysely, deployment: DeploymentRefs): Promise<void> {
  const modelId = await lockModel(trx, deployment.modelName, Date.now());
  for (const pin of pinnedVersions(deployment)) await checkUsableVersion(trx, deployment.modelName, modelId, pin.version, 'be deployed');
}
