/**
 * Retention of the prediction log: rows older than a maximum age go, and then the oldest
 * rows go until the log fits a maximum size. The config sets both (`monitor.retention` in
 * loom.config.json, see platform/config.ts); either may be left out.
 *
 * - Parquet: whole files are removed. A file's age is its modification time, which is when
 *   its writer finished it, so every row in it is at least that old; the size is the
 *   files' bytes on disk, oldest files removed first. A file's profile (log-profile-write.ts)
 *   goes with it and counts in its size (a few hundredths of a large file, but some tenths
 *   of the small files an idle server finishes). A profile whose file is gone another way (deleted
 *   by hand) is never read again: each pass removes such orphans, and only those (a profile
 *   whose file is there is never touched; a profile is written after its file, never before).
 * - PostgreSQL: rows are deleted by `logged_at`; the size is the table's with its indexes
 *   (`pg_total_relation_size`), and the oldest rows are deleted in proportion to the excess.
 *   PostgreSQL reuses the freed space after (auto)vacuum rather than shrinking the file.
 *
 * `loom serve` applies the policy when it starts and then every `everyMinutes` (default 60)
 * through `scheduleRetention`, in one process (the primary, not each worker);
 * `loom monitor retention` applies it at once.
 *
 * Usage: `await applyRetention(location, { maxAgeMs: 30 * 86_400_000, maxBytes: 10 * 2 ** 30 })`
 */
import { rm, stat } from 'node:fs/promises';
import pg from 'pg';
import { LoomError } from '../core/errors.js';
import { profiledFile, profilePath } from './log-profile-write.js';
import { logDirectoryFiles, predictionLogFiles, type PredictionLogLocation } from './prediction-log-reader.js';

export interface RetentionPolicy {
  /** Rows older than this (ms) are removed. */
  maxAgeMs?: number;
  /** The log is cut, oldest first, to at most this many bytes. */
  maxBytes?: number;
  /** How often a running server applies the policy (ms); default an hour. */
  everyMs?: number;
}

/** The pause between a server's retention passes when the config sets none. */
export const DEFAULT_RETENTION_EVERY_MS = 3_600_000;

/** Whether `policy` removes anything at all (an empty policy keeps everything). */
export function retentionConfigured(policy: RetentionPolicy): boolean {
  return policy.maxAgeMs !== undefined || policy.maxBytes !== undefined;
}

/**
 * Applies `policy` now and then every `policy.everyMs`, one pass at a time, until `stop()`.
 * A failed pass (a database down for a while) is reported to `onError` and the next one is
 * tried on time: retention must never take a server down. The timer does not keep the
 * process alive.
 */
export function scheduleRetention(
  location: PredictionLogLocation,
  policy: RetentionPolicy,
  report: { onPass?: (result: RetentionResult) => void; onError: (error: unknown) => void },
): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const pass = () => {
    running = applyRetention(location, policy).then(report.onPass, report.onError);
  };
  pass();
  const timer = setInterval(() => running.then(pass), policy.everyMs ?? DEFAULT_RETENTION_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** What one pass removed. */
export interface RetentionResult {
  /** Parquet files removed (empty on PostgreSQL). */
  removedFiles: string[];
  /** Profiles removed because their Parquet file was already gone (empty on PostgreSQL). */
  removedOrphanProfiles: string[];
  /** Rows deleted on PostgreSQL; on Parquet undefined (files are removed unread). */
  removedRows?: number;
  /** Bytes the log takes after the pass (PostgreSQL: before vacuum). */
  bytes: number;
}

/** Applies `policy` to the log at `location`; `now` is epoch ms. */
export async function applyRetention(location: PredictionLogLocation, policy: RetentionPolicy, now = Date.now()): Promise<RetentionResult> {
  for (const [field, value] of Object.entries(policy)) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new LoomError('INVALID_ARGUMENT', `retention ${field} ${value} is not a size or age`, { field: `monitor.retention.${field}` });
  }
  return location.kind === 'parquet' ? retainFiles(location.dir, policy, now) : retainRows(location, policy, now);
}

async function retainFiles(dir: string, policy: RetentionPolicy, now: number): Promise<RetentionResult> {
  const removedOrphanProfiles = await removeOrphanProfiles(dir);
  const files: { path: string; mtime: number; size: number }[] = [];
  for (const path of await predictionLogFiles(dir)) {
    // A file removed meanwhile (another pass) is simply gone.
    const info = await stat(path).catch(() => undefined);
    const profile = await stat(profilePath(path)).catch(() => undefined);
    if (info) files.push({ path, mtime: info.mtimeMs, size: info.size + (profile?.size ?? 0) });
  }
  files.sort((a, b) => a.mtime - b.mtime || a.path.localeCompare(b.path));
  const removed: string[] = [];
  let bytes = files.reduce((sum, f) => sum + f.size, 0);
  for (const file of files) {
    const tooOld = policy.maxAgeMs !== undefined && file.mtime < now - policy.maxAgeMs;
    const tooBig = policy.maxBytes !== undefined && bytes > policy.maxBytes;
    if (!tooOld && !tooBig) break;
    // The profile first: a file left without one is only scanned, a profile without its file is never read.
    await rm(profilePath(file.path), { force: true });
    await rm(file.path, { force: true });
    removed.push(file.path);
    bytes -= file.size;
  }
  return { removedFiles: removed, removedOrphanProfiles, bytes };
}

/** The `.profile` files of `dir` whose Parquet file is absent, removed; a profile whose file exists (or cannot be looked at) stays. */
async function removeOrphanProfiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  // `.profile` exactly: a profile being written (`….profile.tmp-N`) is not finished, let alone orphaned.
  for (const profile of await logDirectoryFiles(dir, '.profile')) {
    const absent = await stat(profiledFile(profile)).then(
      () => false,
      (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
    );
    if (!absent) continue;
    await rm(profile, { force: true });
    removed.push(profile);
  }
  return removed;
}

async function retainRows(location: Extract<PredictionLogLocation, { kind: 'postgres' }>, policy: RetentionPolicy, now: number): Promise<RetentionResult> {
  const client = new pg.Client({ connectionString: location.url, options: `-c search_path=${location.schema ?? 'public'}` });
  await client.connect();
  try {
    let removedRows = 0;
    if (policy.maxAgeMs !== undefined) {
      removedRows += (await client.query('DELETE FROM prediction_log WHERE logged_at < $1', [now - policy.maxAgeMs])).rowCount ?? 0;
    }
    const size = async () => Number((await client.query(`SELECT pg_total_relation_size('prediction_log') AS bytes`)).rows[0].bytes);
    let bytes = await size();
    if (policy.maxBytes !== undefined && bytes > policy.maxBytes) {
      const { rows } = await client.query('SELECT count(*)::bigint AS n FROM prediction_log');
      const count = Number(rows[0].n);
      // Freed space is reused, not returned: keep the share of rows that fits the budget.
      const keep = Math.floor((count * policy.maxBytes) / bytes);
      const cut = await client.query('SELECT logged_at FROM prediction_log ORDER BY logged_at DESC OFFSET $1 LIMIT 1', [keep]);
      if (cut.rows.length > 0) {
        removedRows += (await client.query('DELETE FROM prediction_log WHERE logged_at <= $1', [cut.rows[0].logged_at])).rowCount ?? 0;
      }
      bytes = await size();
    }
    return { removedFiles: [], removedOrphanProfiles: [], removedRows, bytes };
  } finally {
    await client.end().catch(() => {});
  }
}
