// The order `npm test` hands the test files to node's runner: longest first, so that with two
// files at a time the last ones to start are short and both slots finish close together,
// instead of one long file starting late and running on alone. The times come from the last
// full run on this checkout (.cache/loom-test-times.json, written by test-times-reporter.mjs;
// outside node_modules, which `npm ci` deletes), else from the checked-in scripts/test-times.json.
// A file in neither gets UNKNOWN_SECONDS. Ties go by path, so the order is deterministic.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TIMES_CACHE = fileURLToPath(new URL('../.cache/loom-test-times.json', import.meta.url));
const CHECKED_IN = fileURLToPath(new URL('./test-times.json', import.meta.url));
/** A new file's guess: a typical file that starts a process or two, neither first nor last. */
const UNKNOWN_SECONDS = 5;

/** Seconds by file path from a times file; an absent or unreadable file gives none. */
export function readTimes(path) {
  if (!existsSync(path)) return {};
  try {
    const seconds = JSON.parse(readFileSync(path, 'utf8')).seconds;
    return typeof seconds === 'object' && seconds !== null ? seconds : {};
  } catch {
    return {};
  }
}

/** `files` (paths relative to the repository) longest first. */
export function longestFirst(files) {
  const known = { ...readTimes(CHECKED_IN), ...readTimes(TIMES_CACHE) };
  const seconds = (file) => (typeof known[file] === 'number' ? known[file] : UNKNOWN_SECONDS);
  return [...files].sort((a, b) => seconds(b) - seconds(a) || (a < b ? -1 : a > b ? 1 : 0));
}
