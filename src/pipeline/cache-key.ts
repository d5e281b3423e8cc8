import { fingerprint } from '../core/hash.js';
import type { JsonObject } from '../core/json.js';

/**
 * The cache key of a step: equal keys mean equal work, so a COMPLETE execution with the
 * same key can stand in for running the step again. It covers the component's name and
 * version, its validated parameters and the content fingerprint of every input (absent
 * optional inputs included, as null). The code version is deliberately left out: a
 * component's `version` is the promise that its behaviour did not change.
 */
export function stepCacheKey(component: { name: string; version: string }, parameters: JsonObject, inputFingerprints: Record<string, string | null>): string {
  return fingerprint('loom-step-cache-v1', component.name, component.version, parameters, inputFingerprints);
}
