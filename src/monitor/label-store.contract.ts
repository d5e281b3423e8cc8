/**
 * The contract every LabelStore backend passes. A backend's test file calls
 * `describeLabelStoreContract('sqlite', makeStore)`; `makeStore` gives each test an empty store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import type { LabelStore } from './label-store.js';

export type MakeLabelStore = () => Promise<{ labels: LabelStore; close(): Promise<void> }>;

export function describeLabelStoreContract(name: string, makeStore: MakeLabelStore): void {
  const test = (title: string, body: (store: LabelStore) => Promise<void>) =>
    it(title, async () => {
      const { labels, close } = await makeStore();
      try {
        await body(labels);
      } finally {
        await close();
      }
    });

  describe(`LabelStore contract: ${name}`, () => {
    test('labels written in a batch are read back by request id, booleans as 0/1', async (store) => {
      const before = Date.now();
      const { written } = await store.putLabels(
        [
          { requestId: 'r1', modelName: 'flights', label: 1, observedAt: 1_000 },
          { requestId: 'r2', modelName: 'flights', label: false },
          { requestId: 'r3', modelName: 'taxi', label: 12.5, observedAt: 3_000 },
        ],
        'feedback',
      );
      assert.equal(written, 3);
      const found = await store.getLabels(['r1', 'r2', 'r3', 'missing', 'r1']);
      assert.deepEqual([...found.keys()].sort(), ['r1', 'r2', 'r3']);
      assert.deepEqual({ ...found.get('r1')!, receivedAt: 0 }, { requestId: 'r1', modelName: 'flights', label: 1, observedAt: 1_000, receivedAt: 0, source: 'feedback' });
      const r2 = found.get('r2')!;
      assert.equal(r2.label, 0);
      assert.ok(r2.observedAt >= before && r2.observedAt === r2.receivedAt, 'without a time, a label is observed when received');
      assert.equal(found.get('r3')!.label, 12.5);
    });

    test('a request id labelled again keeps the newer label, also within one batch', async (store) => {
      await store.putLabels([{ requestId: 'r1', modelName: 'flights', label: 0, observedAt: 10 }], 'feedback');
      const { written } = await store.putLabels(
        [
          { requestId: 'r1', modelName: 'flights', label: 1, observedAt: 20 },
          { requestId: 'r2', modelName: 'flights', label: 0, observedAt: 30 },
          { requestId: 'r2', modelName: 'flights', label: 1, observedAt: 40 },
        ],
        'load:labels.csv',
      );
      assert.equal(written, 2);
      const found = await store.getLabels(['r1', 'r2']);
      assert.deepEqual([found.get('r1')!.label, found.get('r1')!.observedAt, found.get('r1')!.source], [1, 20, 'load:labels.csv']);
      assert.deepEqual([found.get('r2')!.label, found.get('r2')!.observedAt], [1, 40]);
    });

    test('a model\'s labels are listed by observation time within [from, to)', async (store) => {
      await store.putLabels(
        [
          { requestId: 'a', modelName: 'flights', label: 1, observedAt: 300 },
          { requestId: 'b', modelName: 'flights', label: 0, observedAt: 100 },
          { requestId: 'c', modelName: 'flights', label: 1, observedAt: 200 },
          { requestId: 'd', modelName: 'other', label: 1, observedAt: 150 },
        ],
        'feedback',
      );
      assert.deepEqual((await store.listLabels({ model: 'flights' })).map((l) => l.requestId), ['b', 'c', 'a']);
      assert.deepEqual((await store.listLabels({ model: 'flights', from: 100, to: 300 })).map((l) => l.requestId), ['b', 'c']);
      assert.deepEqual(await store.listLabels({ model: 'none' }), []);
    });

    test("a model's label values are its labels' request ids and values, a corrected label read as corrected", async (store) => {
      await store.putLabels([{ requestId: 'a', modelName: 'flights', label: 1 }, { requestId: 'b', modelName: 'flights', label: 0.5 }, { requestId: 'd', modelName: 'other', label: 1 }], 'feedback');
      await store.putLabels([{ requestId: 'a', modelName: 'flights', label: false }], 'feedback');
      const values = await store.labelValues('flights');
      assert.deepEqual([...values].sort((x, y) => x.requestId.localeCompare(y.requestId)), [{ requestId: 'a', label: 0 }, { requestId: 'b', label: 0.5 }]);
      assert.deepEqual(await store.labelValues('none'), []);
    });

    test('batches larger than one statement are written whole', async (store) => {
      const many = Array.from({ length: 2_500 }, (_, i) => ({ requestId: `id-${i}`, modelName: 'flights', label: i % 2, observedAt: i }));
      assert.equal((await store.putLabels(many, 'load:big.parquet')).written, 2_500);
      const found = await store.getLabels(many.map((l) => l.requestId));
      assert.equal(found.size, 2_500);
      assert.equal(found.get('id-2499')!.label, 1);
    });

    test("a model's labels are counted, a label given again counting once", async (store) => {
      await store.putLabels(Array.from({ length: 300 }, (_, i) => ({ requestId: `q-${i}`, modelName: i % 3 === 0 ? 'other' : 'flights', label: i % 2 })), 'feedback');
      await store.putLabels([{ requestId: 'q-1', modelName: 'flights', label: 0 }], 'feedback');
      assert.equal(await store.countLabels('flights'), 200);
      assert.equal(await store.countLabels('other'), 100);
      assert.equal(await store.countLabels('none'), 0);
    });

    test('a label of the wrong type is refused naming its field, and nothing of the batch is written', async (store) => {
      await rejectsWithCode(
        store.putLabels(
          [
            { requestId: 'ok', modelName: 'flights', label: 1 },
            { requestId: 'bad', modelName: 'flights', label: 'yes' as unknown as number },
          ],
          'feedback',
        ),
        'INVALID_ARGUMENT',
        '[1].label',
      );
      assert.equal((await store.getLabels(['ok', 'bad'])).size, 0);
    });
  });
}
