/**
 * The audit log interface; `KyselyAuditLog` implements it on SQLite and PostgreSQL and
 * both pass `audit-log.contract.ts`. There is no update or delete: the log only grows.
 *
 * Rules every backend keeps: entries are numbered 1, 2, 3, … without gaps and chained by
 * hash; concurrent appends, from any number of processes, never fork the chain (appends are
 * serialized by a lock held for the transaction); `verify` names every entry that was
 * changed or removed; `record` commits a change and its entry together or neither.
 */
import type { Page } from '../metadata/types.js';
import type { AuditEntry, AuditQuery, AuditVerification, NewAuditEntry } from './types.js';

export interface AuditLog {
  /** Appends entries in order, in one transaction; returns them as stored. INVALID_ARGUMENT for a bad entry. */
  append(entries: NewAuditEntry[]): Promise<AuditEntry[]>;
  /**
   * Makes a change and appends its entry in one database transaction: if the change fails
   * nothing is recorded, and if the entry cannot be written the change is rolled back
   * (INTERNAL, saying so). The change must write through the stores of the log's own
   * database, whose transactions join this one.
   */
  record<T>(change: () => Promise<T>, entryOf: (result: T) => NewAuditEntry): Promise<T>;
  /** Entries newest first, optionally from a time on and about one model. */
  list(query?: AuditQuery): Promise<Page<AuditEntry>>;
  /** Every entry from a time on, oldest first, read in chunks (for JSON-lines export). */
  stream(options?: { since?: number }): AsyncIterable<AuditEntry>;
  /** Checks the whole chain; `anchor` is a head kept from an earlier verify, to catch a cut-off tail. */
  verify(options?: { anchor?: { seq: number; hash: string } }): Promise<AuditVerification>;
}
