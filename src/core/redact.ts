/**
 * The credentials rule: a secret in a recorded value is replaced by `***` before it is
 * recorded, so the metadata store, `loom lineage` and the dashboard never hold one. What is a
 * secret: the password of a URL (`postgres://me:pw@db/x`), a URL query parameter with a secret's
 * name (`?access_token=…`), and any value under a key with a secret's name (`password`,
 * `apiKey`, `token`, …). The step runner records every step's parameters through
 * `redactSecrets`; the executor still gets the real values.
 *
 * Usage: `redactSecrets({ output: 'postgres://me:pw@db/x' })` → `{ output: 'postgres://me:***@db/x' }`
 */
import type { JsonValue } from './json.js';

/** What a redacted secret reads as. */
export const REDACTED = '***';

// Words of a key (camelCase, snake_case, kebab-case split) that name a secret.
const SECRET_WORDS = new Set(['password', 'passwd', 'pwd', 'secret', 'token', 'credential', 'credentials']);
// Two-word names whose words are harmless alone (`key`, `access`).
const SECRET_PAIRS = new Set(['api key', 'access key', 'private key', 'auth key', 'secret key', 'session key']);

/** Whether a field, option or query parameter of this name holds a secret. */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  // `PGPASSWORD`, `dbsecret`: one word that ends in a secret's name.
  if (words.some((word) => SECRET_WORDS.has(word) || /(password|passwd|secret)$/.test(word))) return true;
  return words.some((word, index) => index > 0 && SECRET_PAIRS.has(`${words[index - 1]} ${word}`));
}

/** A URL with its password and secret query parameters replaced by `***`; any other text unchanged. */
export function redactUrl(text: string): string {
  // Only absolute URLs with a scheme and `//` can carry user info; anything else is left alone.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, `$1:${REDACTED}@`);
  }
  let changed = false;
  if (url.password) {
    url.password = REDACTED;
    changed = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (isSecretName(name)) {
      url.searchParams.set(name, REDACTED);
      changed = true;
    }
  }
  // An unchanged URL keeps its exact spelling (URL would normalise it).
  return changed ? url.toString() : text;
}

/** A copy of a JSON value with every secret in it replaced by `***` (see the module comment). */
export function redactSecrets<T extends JsonValue>(value: T): T {
  return redactValue(value) as T;
}

function redactValue(value: JsonValue): JsonValue {
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, isSecretName(key) && inner !== null && inner !== '' ? REDACTED : redactValue(inner as JsonValue)]),
  );
}
