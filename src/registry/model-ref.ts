/**
 * Model references as users write them: `flights` (its champion), `flights@champion`,
 * `flights@3`. Kept apart from the loader so code that only parses references does not
 * load ONNX Runtime.
 */
import { LoomError } from '../core/errors.js';

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

