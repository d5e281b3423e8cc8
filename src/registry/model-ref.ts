/**
 * Model references as users write them: `flights` (its champion), `flights@champion`,
 * `flights@3`, and their resolution to one registered version. Serving, batch scoring,
 * evaluation and lineage all resolve through here, so a reference means the same
 * version everywhere; nothing here loads ONNX Runtime.
 */
import { LoomError } from '../core/errors.js';
import type { RegistryStore } from './store.js';
import type { ModelVersion } from './types.js';

/** The alias a bare model name means. */
export const DEFAULT_ALIAS = 'champion';

/** A parsed model reference: exactly one of `alias` and `version` is set. */
export interface ModelRef {
  name: string;
  alias?: string;
  version?: number;
}

/** Parses `name`, `name@alias` or `name@<version number>`; INVALID_ARGUMENT on anything else. */
export function parseModelRef(ref: string): ModelRef {
  const at = ref.lastIndexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const qualifier = at < 0 ? DEFAULT_ALIAS : ref.slice(at + 1);
  if (!name || !qualifier || /\s/.test(ref)) {
    throw new LoomError('INVALID_ARGUMENT', `"${ref}" is not a model reference`, {
      field: 'model',
      fix: 'write name, name@alias or name@version, e.g. flights@champion or flights@3',
    });
  }
  return /^\d+$/.test(qualifier) ? { name, version: Number(qualifier) } : { name, alias: qualifier };
}

/** The fix every "no such model" error gives. */
export const MODEL_LIST_FIX = 'run `loom models ls` to see registered models, their versions and aliases';

/** Finds the version a reference points at; NOT_FOUND naming what is missing and how to look. */
export async function resolveModelVersion(ref: ModelRef, registry: RegistryStore): Promise<ModelVersion> {
  const model = await registry.getRegisteredModel(ref.name);
  if (!model) {
    throw new LoomError('NOT_FOUND', `no registered model named "${ref.name}"`, { field: 'model', fix: MODEL_LIST_FIX });
  }
  if (ref.version !== undefined) {
    const version = await registry.getModelVersion(ref.name, ref.version);
    if (!version) {
      throw new LoomError('NOT_FOUND', `model "${ref.name}" has no version ${ref.version} (latest is ${model.latestVersion ?? 'none'})`, {
        field: 'model',
        fix: MODEL_LIST_FIX,
      });
    }
    return version;
  }
  const alias = ref.alias ?? DEFAULT_ALIAS;
  const version = await registry.getVersionByAlias(ref.name, alias);
  if (!version) {
    const known = Object.keys(model.aliases);
    throw new LoomError(
      'NOT_FOUND',
      `model "${ref.name}" has no alias "${alias}" (aliases: ${known.length ? known.join(', ') : 'none'})`,
      { field: 'model', fix: `${MODEL_LIST_FIX}; a pipeline sets "champion" when it pushes a blessed model` },
    );
  }
  return version;
}
