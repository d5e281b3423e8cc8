/**
 * The contract every CanaryLeaseStore backend passes. A backend's test file calls
 * `describeCanaryLeaseContract('sqlite', makeStores)`; `makeStores(n)` gives each test `n`
 * stores on one empty database, each over a connection of its own where the backend has more
 * than one (PostgreSQL), so concurrent claims really race in the database.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import type { ProcessOwner } from '../core/process-owner.js';
import type { CanaryLease, CanaryLeaseStore } from './canary-lease.js';

export type MakeCanaryLeaseStores = (count: number) => Promise<{ stores: CanaryLeaseStore[]; close(): Promise<void> }>;

const MINUTE = 60_000;
/** A process on another host: this machine cannot tell whether it still runs, so only expiry frees its lease. */
const ELSEWHERE: ProcessOwner = { pid: 4242, host: 'another-host.example', startToken: null };

export function describeCanaryLeaseContract(name: string, makeStores: MakeCanaryLeaseStores): void {
  const test = (title: string, count: number, body: (stores: CanaryLeaseStore[]) => Promise<void>) =>
    it(title, async () => {
      const { stores, close } = await makeStores(count);
      try {
        await body(stores);
      } finally {
        await close();
      }
    });

  describe(`CanaryLeaseStore contract: ${name}`, () => {
    test('a free lease is claimed; a second claim is refused and told who holds it; released, it can be claimed again', 1, async ([store]) => {
      const first = await store!.claim('flights', { ttlMs: MINUTE, holder: ELSEWHERE, now: 1000 });
      assert.ok(first.claimed);
      assert.deepEqual([first.lease.model, first.lease.holder, first.lease.acquiredAt, first.lease.expiresAt, first.tookOver], ['flights', ELSEWHERE, 1000, 1000 + MINUTE, undefined]);
      const second = await store!.claim('flights', { ttlMs: MINUTE, now: 2000 });
      assert.ok(!second.claimed);
      assert.deepEqual(second.held, first.lease);
      assert.ok((await store!.claim('other', { ttlMs: MINUTE, now: 2000 })).claimed, 'leases are per model');
      assert.equal(await store!.release(first.lease), true);
      assert.equal(await store!.getLease('flights'), undefined);
      assert.ok((await store!.claim('flights', { ttlMs: MINUTE, now: 3000 })).claimed);
    });

    test('an expired lease is taken over, naming the one it replaced; the old holder can neither renew nor release it', 1, async ([store]) => {
      const old = await store!.claim('flights', { ttlMs: MINUTE, holder: ELSEWHERE, now: 0 });
      assert.ok(old.claimed);
      assert.ok(!(await store!.claim('flights', { ttlMs: MINUTE, now: MINUTE - 1 })).claimed, 'live until it expires');
      const next = await store!.claim('flights', { ttlMs: MINUTE, now: MINUTE });
      assert.ok(next.claimed);
      assert.deepEqual(next.tookOver, old.lease);
      assert.notEqual(next.lease.token, old.lease.token);
      assert.equal(await store!.renew(old.lease, MINUTE), undefined);
      assert.equal(await store!.release(old.lease), false);
      assert.deepEqual(await store!.getLease('flights'), next.lease, 'the new holder keeps it');
    });

    test('a renewed lease lasts from its renewal', 1, async ([store]) => {
      const claim = await store!.claim('flights', { ttlMs: MINUTE, holder: ELSEWHERE, now: 0 });
      assert.ok(claim.claimed);
      const renewed = await store!.renew(claim.lease, MINUTE, 50_000);
      assert.equal(renewed?.expiresAt, 50_000 + MINUTE);
      assert.ok(!(await store!.claim('flights', { ttlMs: MINUTE, now: MINUTE + 1 })).claimed, 'not expired at its first expiry');
    });

    test('a lease renewed between a claim reading it expired and taking it over stays its holder\'s: the take-over compares the expiry it read, not the token alone', 2, async ([holder, claimer]) => {
      const old = await holder!.claim('flights', { ttlMs: MINUTE, holder: ELSEWHERE, now: 0 });
      assert.ok(old.claimed);
      // The claimer reads the lease as expired at MINUTE; its holder (alive, a little late) renews it before the claimer writes.
      let renewed: CanaryLease | undefined;
      const racing = new Proxy(claimer!, {
        get(target, key, receiver) {
          if (key !== 'getLease') return Reflect.get(target, key, receiver) as unknown;
          return async (model: string) => {
            const read = await target.getLease(model);
            renewed ??= await holder!.renew(old.lease, MINUTE, MINUTE);
            return read;
          };
        },
      });
      const claim = await racing.claim('flights', { ttlMs: MINUTE, now: MINUTE });
      assert.ok(renewed, 'the holder renewed its lease');
      assert.ok(!claim.claimed, `the renewed lease was taken over: ${JSON.stringify(claim)}`);
      assert.deepEqual(claim.held, renewed);
      assert.deepEqual(await holder!.getLease('flights'), renewed);
    });

    test('a lease whose holder on this host has exited is taken over before it expires', 1, async ([store]) => {
      // This pid with a start token it never had: the process that held it is gone (its pid reused).
      const gone: ProcessOwner = { pid: process.pid, host: hostname(), startToken: 'a process that exited' };
      const old = await store!.claim('flights', { ttlMs: 60 * MINUTE, holder: gone, now: 0 });
      assert.ok(old.claimed);
      const next = await store!.claim('flights', { ttlMs: MINUTE, now: 1 });
      assert.ok(next.claimed);
      assert.equal(next.tookOver?.token, old.lease.token);
    });

    test('a lease held by a process of another pid namespace on this host (a container sharing its hostname) is not taken over before it expires', 1, async ([store]) => {
      // Its pid does not exist in this namespace, which says nothing of whether it runs in its own.
      const contained: ProcessOwner = { pid: 4_194_305, host: hostname(), startToken: 'boot:1', pidNamespace: 'pid:[1]' };
      const old = await store!.claim('flights', { ttlMs: MINUTE, holder: contained, now: 0 });
      assert.ok(old.claimed);
      assert.deepEqual(old.lease.holder, contained);
      assert.ok(!(await store!.claim('flights', { ttlMs: MINUTE, now: 1 })).claimed, 'live until it expires');
      assert.ok((await store!.claim('flights', { ttlMs: MINUTE, now: MINUTE })).claimed);
    });

    test('of claims made at once, on a free lease or on an expired one, exactly one succeeds', 4, async (stores) => {
      for (const round of [0, 1]) {
        const claims = await Promise.all(stores.map((store) => store.claim('flights', { ttlMs: MINUTE, now: round * 2 * MINUTE })));
        const won = claims.filter((c) => c.claimed);
        assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(claims)}`);
        for (const lost of claims.filter((c) => !c.claimed)) assert.deepEqual(lost.held, won[0]!.lease);
      }
    });
  });
}
