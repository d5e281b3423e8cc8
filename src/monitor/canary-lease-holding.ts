/**
 * Holding a canary lease while a check works: renewed every third of its length, so it
 * expires only when its holder died or stalled, confirmed before the check acts, and released
 * when the check ends. A release that fails leaves the lease to expire (or to be taken over once
 * this process exits): the next check waits at most that long, and nothing is lost.
 *
 * Usage: `const held = holdLease(store, claim.lease, ttlMs); try { ...; if (await held.confirm()) return; ... } finally { await held.release(); }`
 */
import { LoomError } from '../core/errors.js';
import type { CanaryLease, CanaryLeaseStore } from './canary-lease.js';

export interface HeldLease {
  /** Renews the lease now; undefined while it is still this check's, else the lease of the check that took it over. */
  confirm(): Promise<CanaryLease | undefined>;
  /** Stops renewing and gives the lease up. Never throws. */
  release(): Promise<void>;
}

export function holdLease(store: CanaryLeaseStore, lease: CanaryLease, ttlMs: number): HeldLease {
  // A failed renewal is not fatal here: confirm() finds out whether the lease was lost before the check acts.
  const renewal = setInterval(() => void store.renew(lease, ttlMs).catch(() => {}), Math.max(1, Math.floor(ttlMs / 3)));
  renewal.unref();
  return {
    async confirm() {
      if (await store.renew(lease, ttlMs)) return undefined;
      const now = await store.getLease(lease.model);
      if (now) return now;
      throw new LoomError('FAILED_PRECONDITION', `this check's canary lease on ${lease.model} was taken over while it read the window (it was not renewed before ${new Date(lease.expiresAt).toISOString()}), and the check that took it has finished: this one decided nothing`, {
        fix: 'check the canary again',
      });
    },
    async release() {
      clearInterval(renewal);
      await store.release(lease).catch(() => false);
    },
  };
}
