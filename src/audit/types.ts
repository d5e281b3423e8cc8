/**
 * Audit log entries: who changed what, when, from where, and the state before and after.
 * Each entry's hash covers its content and the previous entry's hash, so editing or
 * removing an entry breaks the chain where it happened.
 */
import type { JsonValue } from '../core/json.js';

/** What a writer hands the log; `seq`, `at` and the hashes are the log's to assign. */
export interface NewAuditEntry {
  /** The authenticated principal's subject. */
  actor: string;
  /** Where the change came from: the client address of an HTTP request, `cli` for the command line. */
  address: string;
  /** What was done, as `noun.verb`: `alias.set`, `model.delete`, `token.create`. */
  action: string;
  /** The registered model the change is about, for `loom audit --model`. */
  model?: string | null;
  /** The thing changed, as people name it: `flights@champion`, `flights v3`, `token 1a2b3c4d5e6f`. */
  target: string;
  /** Why, as the person gave it (`--reason`); empty when none was given. */
  reason?: string;
  before?: JsonValue | null;
  after?: JsonValue | null;
}

export interface AuditEntry {
  /** 1, 2, 3, …: a gap is a removed entry. */
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  actor: string;
  address: string;
  action: string;
  model: string | null;
  target: string;
  reason: string;
  before: JsonValue | null;
  after: JsonValue | null;
  /** Hex SHA-256 of the previous entry (64 zeros for the first). */
  prevHash: string;
  /** Hex SHA-256 over this entry's content and `prevHash`. */
  hash: string;
}

export interface AuditQuery {
  /** Entries at or after this time (epoch milliseconds). */
  since?: number;
  model?: string;
  /** Page size (default 100, at most 10,000). */
  pageSize?: number;
  pageToken?: string;
}

/** A place where the chain does not hold. */
export interface AuditProblem {
  kind: 'missing' | 'tampered' | 'broken-link';
  /** The first sequence number affected. */
  seq: number;
  /** The last one, for a run of missing entries. */
  toSeq?: number;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Entries checked. */
  checked: number;
  /** The newest entry: keep it outside the database (an anchor) to detect a cut-off tail later. */
  head: { seq: number; hash: string } | null;
  problems: AuditProblem[];
}
