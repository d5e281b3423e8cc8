/**
 * The hash chain, as pure functions: the hash of one entry, and the check of a run of
 * stored entries in sequence order. `KyselyAuditLog` stores and streams; this decides.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/json.js';
import type { AuditEntry, AuditProblem } from './types.js';

/** The previous hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** An entry as stored (one row): before and after as canonical JSON text, exactly what is hashed. */
export type StoredEntry = Omit<AuditEntry, 'before' | 'after' | 'prevHash'> & {
  before: string | null;
  after: string | null;
  prev_hash: string;
};

/** The hash of an entry's content chained to the previous hash. */
export function entryHash(entry: Omit<StoredEntry, 'hash'>): string {
  const { seq, at, actor, address, action, model, target, reason, before, after, prev_hash } = entry;
  return createHash('sha256').update(canonicalJson({ seq, at, actor, address, action, model, target, reason, before, after, prev_hash }), 'utf8').digest('hex');
}

/**
 * Walks stored entries in sequence order, one call per entry, collecting problems: a gap
 * in the numbers (removed entries), an entry whose hash does not match its content
 * (edited), and an entry whose previous hash is not the hash of the entry before it
 * (an edited entry whose hash was recomputed, or entries re-linked after a removal).
 */
export class ChainChecker {
  readonly problems: AuditProblem[] = [];
  checked = 0;
  private expectedSeq = 1;
  private previousHash = GENESIS_HASH;
  private last: { seq: number; hash: string } | null = null;

  /** @param anchor a head kept outside the database earlier: the chain must still hold it. */
  constructor(private readonly anchor?: { seq: number; hash: string }) {}

  check(entry: StoredEntry): void {
    this.checked++;
    if (this.anchor && entry.seq === this.anchor.seq && entry.hash !== this.anchor.hash) {
      this.problems.push({ kind: 'tampered', seq: entry.seq, message: `entry ${entry.seq} is not the one anchored earlier (its hash differs from the anchor)` });
    }
    const gap = entry.seq > this.expectedSeq;
    if (gap) {
      const to = entry.seq - 1;
      this.problems.push({
        kind: 'missing',
        seq: this.expectedSeq,
        ...(to > this.expectedSeq ? { toSeq: to } : {}),
        message: to > this.expectedSeq ? `entries ${this.expectedSeq} to ${to} are missing` : `entry ${this.expectedSeq} is missing`,
      });
    }
    if (entryHash(entry) !== entry.hash) {
      this.problems.push({ kind: 'tampered', seq: entry.seq, message: `entry ${entry.seq} was changed after it was written (its hash does not match its content)` });
    } else if (!gap && entry.prev_hash !== this.previousHash) {
      this.problems.push({
        kind: 'broken-link',
        seq: entry.seq,
        message: `entry ${entry.seq} does not follow entry ${entry.seq - 1}: one of them was rewritten`,
      });
    }
    this.expectedSeq = entry.seq + 1;
    this.previousHash = entry.hash;
    this.last = { seq: entry.seq, hash: entry.hash };
  }

  /** The newest entry seen. */
  head(): { seq: number; hash: string } | null {
    return this.last;
  }

  /** Call after the last entry: entries cut off the end show only against an anchor. */
  finish(): AuditProblem[] {
    const lastSeq = this.last?.seq ?? 0;
    if (this.anchor && lastSeq < this.anchor.seq) {
      const from = lastSeq + 1;
      this.problems.push({ kind: 'missing', seq: from, ...(this.anchor.seq > from ? { toSeq: this.anchor.seq } : {}), message: `entries ${from} to ${this.anchor.seq} (the anchored head) are missing` });
    }
    return this.problems;
  }
}
