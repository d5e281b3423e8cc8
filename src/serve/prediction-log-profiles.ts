/**
 * The profiles the embedded prediction log's writer puts beside its finished files
 * (monitor/log-profile-write.ts), for monitoring windows to sum instead of scanning the rows.
 * A file without one is only scanned, so a failure loses nothing; but most failures pass (a
 * full disk freed, a write refused for a moment), and a file left unprofiled would be scanned
 * by every window over it for as long as it is kept. So a failed profile is tried again after
 * each later file's profile is written (the failure's cause is likely gone then), up to
 * `MAX_PROFILE_ATTEMPTS` in all; a file removed meanwhile (retention) is forgotten.
 *
 * Usage: `const profiles = new LogFileProfiles(onError); await profiles.write(db, file)` after each file.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { LoomError } from '../core/errors.js';
import { writeLogProfile } from '../monitor/log-profile-write.js';
import { exists } from './prediction-log-spool.js';

/** How many times in all a file's profile is tried. */
export const MAX_PROFILE_ATTEMPTS = 3;

export class LogFileProfiles {
  /** Files whose profile failed, with the attempts made so far. */
  private readonly failed = new Map<string, number>();

  constructor(private readonly onError?: (error: unknown) => void) {}

  /** Writes `file`'s profile; when that works, tries again those that failed before. Never throws. */
  async write(db: DuckDBConnection, file: string): Promise<void> {
    if (!(await this.attempt(db, file, 1))) return;
    for (const [earlier, attempts] of [...this.failed]) {
      this.failed.delete(earlier);
      // Removed since (retention): nothing left to profile.
      if (!(await exists(earlier))) continue;
      await this.attempt(db, earlier, attempts + 1);
    }
  }

  private async attempt(db: DuckDBConnection, file: string, attempt: number): Promise<boolean> {
    try {
      await writeLogProfile(db, file);
      return true;
    } catch (error) {
      const last = attempt >= MAX_PROFILE_ATTEMPTS;
      if (!last) this.failed.set(file, attempt);
      const reason = error instanceof Error ? error.message : String(error);
      this.onError?.(
        new LoomError('INTERNAL', `the profile of ${file} could not be written (attempt ${attempt} of ${MAX_PROFILE_ATTEMPTS}): ${reason}`, {
          fix: last ? 'nothing to do; windows over this file scan its rows' : 'nothing to do; it is tried again after the next file, and until then windows over this file scan its rows',
        }),
      );
      return false;
    }
  }
}
