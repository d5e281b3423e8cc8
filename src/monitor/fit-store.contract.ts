/**
 * The contract every FitStore backend passes. A backend's test file calls
 * `describeFitStoreContract('sqlite', makeStore)`; `makeStore` gives each test an empty store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIT_USE_TOUCH_MS, type FitKey, type FitStore } from './fit-store.js';
import { VERSIONS_KEPT } from './version-fits.js';

export type MakeFitStore = () => Promise<{ fits: FitStore; close(): Promise<void> }>;

const key = (identity: string, extra: Partial<FitKey> = {}): FitKey => ({ kind: 'drift', model: 'flights', identity, name: 'reconstruction', ...extra });

export function describeFitStoreContract(name: string, makeStore: MakeFitStore): void {
  const test = (title: string, body: (store: FitStore) => Promise<void>) =>
    it(title, async () => {
      const { fits, close } = await makeStore();
      try {
        await body(fits);
      } finally {
        await close();
      }
    });

  describe(`FitStore contract: ${name}`, () => {
    test('a fit comes back as written, by its whole key; writing it again replaces it', async (store) => {
      assert.equal(await store.read(key('[1,"a"]')), undefined);
      // Long JSON text with every kind of character survives as it was.
      const payload = JSON.stringify({ format: 1, fit: { components: Array.from({ length: 2000 }, (_, i) => i / 7), name: 'ü "quoted" \\ \n' } });
      await store.write(key('[1,"a"]'), payload, 5);
      assert.deepEqual(await store.read(key('[1,"a"]')), { payload, createdAt: 5 });
      for (const other of [key('[1,"b"]'), key('[1,"a"]', { kind: 'quality' }), key('[1,"a"]', { model: 'other' }), key('[1,"a"]', { name: 'cbpe' })]) {
        assert.equal(await store.read(other), undefined, JSON.stringify(other));
      }
      await store.write(key('[1,"a"]'), '{"format":2}', 6);
      assert.deepEqual(await store.read(key('[1,"a"]')), { payload: '{"format":2}', createdAt: 6 });
    });

    test(`a kind and model keep the fits of their ${VERSIONS_KEPT} newest identities; others are untouched`, async (store) => {
      assert.equal(VERSIONS_KEPT, 2);
      await store.write(key('v1'), 'p1', 1);
      await store.write(key('v1', { name: 'other fit' }), 'p1b', 2);
      await store.write(key('v2'), 'p2', 3);
      await store.write(key('v1', { model: 'other' }), 'o1', 4);
      await store.write(key('v1', { kind: 'quality' }), 'q1', 5);
      await store.write(key('v3'), 'p3', 6); // drops v1, both of its fits
      // The checks read at time 0, which records no use: a read at this process's time would stamp
      // v2 and v3 with uses a millisecond apart or tied, and reorder what the last write keeps.
      const payloadOf = async (k: FitKey) => (await store.read(k, 0))?.payload;
      assert.equal(await payloadOf(key('v1')), undefined);
      assert.equal(await payloadOf(key('v1', { name: 'other fit' })), undefined);
      assert.equal(await payloadOf(key('v2')), 'p2');
      assert.equal(await payloadOf(key('v3')), 'p3');
      assert.equal(await payloadOf(key('v1', { model: 'other' })), 'o1');
      assert.equal(await payloadOf(key('v1', { kind: 'quality' })), 'q1');
      // The identity written is kept even when another process's clock put the others later.
      await store.write(key('v4'), 'p4', 0);
      assert.equal(await payloadOf(key('v4')), 'p4');
      assert.equal(await payloadOf(key('v3')), 'p3');
      assert.equal(await payloadOf(key('v2')), undefined);
    });

    test('the version read most recently survives two newer writes; a read soon after its last use records nothing', async (store) => {
      assert.equal(VERSIONS_KEPT, 2);
      const later = FIT_USE_TOUCH_MS + 1;
      await store.write(key('v1'), 'p1', 1);
      await store.write(key('v2'), 'p2', 2);
      // v1 is served: read every window, its use recorded once it is stale.
      assert.equal((await store.read(key('v1'), 1 + later))?.payload, 'p1');
      await store.write(key('v3'), 'p3', 3 + later); // drops v2, used before v1
      assert.equal((await store.read(key('v1'), 1 + 2 * later))?.payload, 'p1');
      await store.write(key('v4'), 'p4', 4 + 2 * later); // drops v3
      assert.equal(await store.read(key('v2')), undefined);
      assert.equal(await store.read(key('v3')), undefined);
      assert.equal((await store.read(key('v1')))?.payload, 'p1');
      assert.equal((await store.read(key('v4')))?.payload, 'p4');
      // Read within FIT_USE_TOUCH_MS of its write, v5's recorded use stays its write: v6 and v7 evict it.
      await store.write(key('v5', { model: 'fresh' }), 'p5', 10);
      await store.write(key('v6', { model: 'fresh' }), 'p6', 11);
      assert.equal((await store.read(key('v5', { model: 'fresh' }), 10 + FIT_USE_TOUCH_MS))?.payload, 'p5');
      await store.write(key('v7', { model: 'fresh' }), 'p7', 12);
      assert.equal(await store.read(key('v5', { model: 'fresh' })), undefined);
      // A touch records a use (a fit served from memory) and never moves one back.
      await store.touch(key('v6', { model: 'fresh' }), 20);
      await store.touch(key('v6', { model: 'fresh' }), 5);
      await store.touch(key('absent', { model: 'fresh' }), 20);
      await store.write(key('v8', { model: 'fresh' }), 'p8', 13); // v6 (used 20) outlives v7 (12)
      assert.equal((await store.read(key('v6', { model: 'fresh' })))?.payload, 'p6');
      assert.equal(await store.read(key('v7', { model: 'fresh' })), undefined);
    });

    test("a process whose clock runs ahead records its uses no later than the database's clock: the uses of processes with correct clocks still count", async (store) => {
      const HOUR = 3_600_000;
      const past = Date.now() - 3 * FIT_USE_TOUCH_MS;
      await store.write(key('a'), 'pa', past);
      await store.write(key('b'), 'pb', past);
      // A process an hour ahead reads b: by its clock the use is stale, so it records it.
      assert.equal((await store.read(key('b'), Date.now() + HOUR))?.payload, 'pb');
      // This process, on time, then serves a: its use is recorded too, and is no older than b's.
      assert.equal((await store.read(key('a'), Date.now()))?.payload, 'pa');
      // The fast process writes a new version: the other identity kept is a, in use now, not b (whose use it stamped an hour ahead).
      await store.write(key('c'), 'pc', Date.now() + HOUR);
      assert.equal((await store.read(key('a')))?.payload, 'pa');
      assert.equal(await store.read(key('b')), undefined);
      assert.equal((await store.read(key('c')))?.payload, 'pc');
    });

    test('two writers of one fit at once leave one row', async (store) => {
      await Promise.all([store.write(key('v1'), 'first', 1), store.write(key('v1'), 'second', 1)]);
      assert.ok(['first', 'second'].includes((await store.read(key('v1')))!.payload));
      await store.write(key('v2'), 'p2', 2);
      assert.ok(await store.read(key('v1')), 'v1 is one of the two kept identities');
    });

    test(`writers of several identities at once all succeed and leave ${VERSIONS_KEPT} identities`, async (store) => {
      const identities = ['v0', 'v1', 'v2', 'v3'];
      // Rounds of six overlapping writers (a pool of connections on PostgreSQL), each rewriting an
      // identity that may be among another writer's older ones: each deletes what the other upserts.
      for (let round = 0; round < 20; round++) {
        await Promise.all(Array.from({ length: 6 }, (_, i) => store.write(key(identities[(i + round) % 4]!), `p${round}`, 1000 + ((i * 7 + round * 3) % 5))));
      }
      const kept = [];
      for (const identity of identities) if (await store.read(key(identity))) kept.push(identity);
      assert.equal(kept.length, VERSIONS_KEPT, kept.join(', '));
    });
  });
}
