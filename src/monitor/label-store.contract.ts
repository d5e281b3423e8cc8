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

    test('batches are written in one transaction, a request id given again in a later batch taking the later label', async (store) => {
      async function* batches() {
        yield Array.from({ length: 1_500 }, (_, i) => ({ requestId: `b-${i}`, modelName: 'flights', label: 0, observedAt: i }));
        yield [];
        yield [{ requestId: 'b-7', modelName: 'flights', label: 1, observedAt: 7_000 }, { requestId: 'b-1500', modelName: 'flights', label: true }];
      }
      assert.deepEqual(await store.putLabelBatches(batches(), 'load:big.csv'), { written: 1_502 }, 'b-7 counted once per batch it is in');
      assert.equal(await store.countLabels('flights'), 1_501);
      const found = await store.getLabels(['b-0', 'b-7', 'b-1500']);
      assert.deepEqual([found.get('b-0')!.label, found.get('b-7')!.label, found.get('b-7')!.observedAt, found.get('b-1500')!.label, found.get('b-7')!.source], [0, 1, 7_000, 1, 'load:big.csv']);
      assert.equal(found.get('b-0')!.receivedAt, found.get('b-1500')!.receivedAt, 'one load, one time received');
      assert.deepEqual(await store.putLabelBatches((async function* () {})(), 'load:none.csv'), { written: 0 });
    });

    test('a batch refused, or a source failing, after batches were written leaves none of them written', async (store) => {
      await store.putLabels([{ requestId: 'kept', modelName: 'flights', label: 1 }], 'feedback');
      const first = Array.from({ length: 2_500 }, (_, i) => ({ requestId: `c-${i}`, modelName: 'flights', label: i % 2 }));
      async function* refused() {
        yield first;
        yield [{ requestId: 'kept', modelName: 'flights', label: 0 }];
        yield [{ requestId: 'ok', modelName: 'flights', label: 1 }, { requestId: 'bad', modelName: 'flights', label: Number.NaN }];
      }
      await rejectsWithCode(store.putLabelBatches(refused(), 'load:bad.csv'), 'INVALID_ARGUMENT', '[1].label');
      async function* failing() {
        yield first;
        throw new Error('the source failed as it was read');
      }
      await assert.rejects(store.putLabelBatches(failing(), 'load:torn.csv'), /the source failed/);
      assert.equal(await store.countLabels('flights'), 1, 'only the label written before');
      assert.equal((await store.getLabels(['kept'])).get('kept')!.label, 1, 'not overwritten by a refused load');
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
