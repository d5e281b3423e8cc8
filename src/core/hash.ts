import { createHash } from 'node:crypto';
import { canonicalJson } from './json.js';

/**
 * The one fingerprint function: sha256 over the canonical JSON of its parts.
 * Cache keys, artifact content hashes of metadata and dataset versions are all made by it.
 */
export function fingerprint(...parts: unknown[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(typeof part === 'string' ? part : canonicalJson(part));
    hash.update('\u0000');
  }
  return hash.digest('hex');
}
