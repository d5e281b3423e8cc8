/**
 * The canary lease: at most one check decides a model's canary at a time. A check claims
 * the model's lease before it reads the deployment and holds it (renewing it while it works)
 * until it has decided and taken the canary out; a second check that finds it held does
 * nothing and says who holds it and since when. The claim is one atomic statement on both
 * backends (an upsert on the model's row that replaces only an expired lease), so two
 * processes claiming at once meet on the row and one of them wins. A lease whose holder died
 * is taken over when it expires, or at once when its process is known gone (on this host,
 * as `failAbandonedWork` tells a killed process's work). One interface, one Kysely
 * implementation (SQLite embedded, PostgreSQL server), one contract suite (`canary-lease.contract.ts`).
 *
 * Usage: `const claim = await leases.claim('flights', { ttlMs: 60_000 });`
 *        `if (claim.claimed) try { ... } finally { await leases.release(claim.lease); }`
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { LoomError } from '../core/errors.js';
import { currentOwner, ownerState, parseOwner, type ProcessOwner } from '../core/process-owner.js';
import { dialectOf } from '../core/sql-dialect.js';
import type { CanaryLeaseTable, CanaryLeaseTables } from './canary-lease-tables.js';

/** Claims that lose to another claim (a release or take-over between two statements) before the claimer gives up. */
const CLAIM_TRIES = 5;

/** A held lease on deciding one model's canary. */
export interface CanaryLease {
  model: string;
  /** This claim's own id: renewing or releasing a lease taken over since does nothing. */
  token: string;
  /** The process that holds it (null when its stored record does not parse). */
  holder: ProcessOwner | null;
  acquiredAt: number;
  /** Past this (ms since the epoch, on the database's clock on PostgreSQL) another check may take it over. */
  expiresAt: number;
}

/** A claim's answer: the lease (with the one it replaced, when it took over an expired or abandoned one), or the lease someone else holds. */
export type LeaseClaim = { claimed: true; lease: CanaryLease; tookOver?: CanaryLease } | { claimed: false; held: CanaryLease };

export interface ClaimOptions {
  /** How long the lease lasts unless renewed. */
  ttlMs: number;
  /** Default: this process. */
  holder?: ProcessOwner;
  /** Default: now on the database's clock (`KyselyCanaryLeaseStore`). */
  now?: number;
}

export interface CanaryLeaseStore {
  /**
   * Takes the model's lease when it is free, expired, or held by a process on this host that is
   * gone; otherwise answers with the lease that is held. Atomic: of concurrent claims on a free lease exactly one succeeds.
   */
  claim(model: string, options: ClaimOptions): Promise<LeaseClaim>;
  /** Extends a held lease to `ttlMs` from now; undefined when it is no longer this claim's (taken over or released). */
  renew(lease: CanaryLease, ttlMs: number, now?: number): Promise<CanaryLease | undefined>;
  /** Gives the lease up; false when it was no longer this claim's. */
  release(lease: CanaryLease): Promise<boolean>;
  /** The model's lease, expired or not; undefined when none is held. */
  getLease(model: string): Promise<CanaryLease | undefined>;
}

/** Canary leases in the Loom database (SQLite or PostgreSQL, through the shared Kysely). */
export class KyselyCanaryLeaseStore implements CanaryLeaseStore {
  constructor(private readonly db: Kysely<CanaryLeaseTables>) {}

  async claim(model: string, options: ClaimOptions): Promise<LeaseClaim> {
    const now = await this.clock(options.now);
    const fresh = { token: randomUUID(), holder: JSON.stringify(options.holder ?? currentOwner()), acquired_at: now, expires_at: now + options.ttlMs };
    // Each try is one atomic statement; a try that loses to another claim reads the lease again.
    for (let tries = 0; tries < CLAIM_TRIES; tries++) {
      const held = await this.getLease(model);
      if (held && !replaceable(held, now)) return { claimed: false, held };
      const lease = held ? await this.replace(held, fresh) : await this.insert(model, fresh);
      if (lease) return { claimed: true, lease, ...(held && { tookOver: held }) };
    }
    const held = await this.getLease(model);
    if (held) return { claimed: false, held };
    throw new LoomError('UNAVAILABLE', `the canary lease of ${model} changed hands ${CLAIM_TRIES} times while it was being claimed`, { fix: 'check the canary again', retryable: true });
  }

  async renew(lease: CanaryLease, ttlMs: number, now?: number): Promise<CanaryLease | undefined> {
    const at = await this.clock(now);
    const row = await this.db
      .updateTable('canary_lease')
      .set({ expires_at: at + ttlMs })
      .where('model_name', '=', lease.model)
      .where('token', '=', lease.token)
      .returningAll()
      .executeTakeFirst();
    return row && toLease(row);
  }

  async release(lease: CanaryLease): Promise<boolean> {
    const result = await this.db.deleteFrom('canary_lease').where('model_name', '=', lease.model).where('token', '=', lease.token).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async getLease(model: string): Promise<CanaryLease | undefined> {
    const row = await this.db.selectFrom('canary_lease').selectAll().where('model_name', '=', model).executeTakeFirst();
    return row && toLease(row);
  }

  /**
   * Now, unless given: on PostgreSQL the server's clock, which every client shares, so clients
   * whose own clocks differ (by up to an hour, as canary-clearing.ts allows) still agree when a
   * lease expires; SQLite's clients share its file's host, and so its clock.
   */
  private async clock(now: number | undefined): Promise<number> {
    if (now !== undefined) return now;
    if (dialectOf(this.db) !== 'postgres') return Date.now();
    const { rows } = await sql<{ now: string | number }>`select (extract(epoch from clock_timestamp()) * 1000)::bigint as now`.execute(this.db);
    return Number(rows[0]!.now);
  }

  /** Inserts the model's first lease; undefined when another claim inserted one first (the key conflicts). */
  private async insert(model: string, fresh: Omit<CanaryLeaseTable, 'model_name'>): Promise<CanaryLease | undefined> {
    const row = await this.db
      .insertInto('canary_lease')
      .values({ model_name: model, ...fresh })
      .onConflict((oc) => oc.column('model_name').doNothing())
      .returningAll()
      .executeTakeFirst();
    return row && toLease(row);
  }

  /**
   * Takes `held` over (expired, or its holder gone), as a compare-and-set on its token and
   * expiry as read: of two claims taking one lease over, the second finds the token changed and
   * takes nothing; a renewal since (same token, later expiry) keeps the lease its holder's.
   */
  private async replace(held: CanaryLease, fresh: Omit<CanaryLeaseTable, 'model_name'>): Promise<CanaryLease | undefined> {
    const row = await this.db
      .updateTable('canary_lease')
      .set(fresh)
      .where('model_name', '=', held.model)
      .where('token', '=', held.token)
      .where('expires_at', '=', held.expiresAt)
      .returningAll()
      .executeTakeFirst();
    return row && toLease(row);
  }
}

/** A lease another claim may take: expired, or held by a process on this host that has exited (it can neither finish nor renew). */
function replaceable(lease: CanaryLease, now: number): boolean {
  return lease.expiresAt <= now || (lease.holder !== null && ownerState(lease.holder) === 'gone');
}

/** A stored row as a lease; numbers are converted because PostgreSQL returns bigint columns as strings. */
function toLease(row: Selectable<CanaryLeaseTable>): CanaryLease {
  return { model: row.model_name, token: row.token, holder: parseOwner(row.holder) ?? null, acquiredAt: Number(row.acquired_at), expiresAt: Number(row.expires_at) };
}

/** Who holds a lease (or runs a step), for people: "process 123 on host h". */
export function processText(holder: ProcessOwner | null): string {
  return holder ? `process ${holder.pid} on host ${holder.host}` : 'a process whose record cannot be read';
}
