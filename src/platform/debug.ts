/**
 * LOOM_DEBUG, read apart from the rest of the configuration (`config.ts`, which re-exports
 * it): every error a command prints consults it, so reading it must load nothing else, and
 * it must work when the configuration itself is what is wrong.
 */

/** Whether internal errors print their stack trace (LOOM_DEBUG set). */
export function isDebug(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.LOOM_DEBUG);
}
