import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { openFreshKysely } from '../../test/support/databases.js';
import type { FitFormat } from './fit-store-formats.js';
import type { MonitorFitTables } from './fit-store-tables.js';
import { FIT_USE_TOUCH_MS, KyselyFitStore } from './fit-store.js';
import { VERSIONS_KEPT, VersionFits } from './version-fits.js';

/** A fit that counts how often it is made. */
function counter() {
  const made: string[] = [];
  const make = (what: string) => async () => {
    made.push(what);
    return { what };
  };
  return { made, make };
}

test('a version’s fit is made once and shared by its later windows; other versions, models and kinds get their own', async () => {
  const fits = new VersionFits();
  const { made, make } = counter();
  const first = await fits.scope('drift', 'flights', 'v1').get('pca', make('flights v1'));
  const again = await fits.scope('drift', 'flights', 'v1').get('pca', make('flights v1 again'));
  assert.equal(again, first, 'the same object, not a refit');
  await fits.scope('drift', 'flights', 'v2').get('pca', make('flights v2'));
  await fits.scope('drift', 'other', 'v1').get('pca', make('other v1'));
  await fits.scope('quality', 'flights', 'v1').get('pca', make('quality flights v1'));
  await fits.scope('drift', 'flights', 'v1').get('cbpe', make('flights v1 cbpe'));
  assert.deepEqual(made, ['flights v1', 'flights v2', 'other v1', 'quality flights v1', 'flights v1 cbpe']);
});

test('a newly served version drops the least recently used one beyond the primary and a canary', async () => {
  assert.equal(VERSIONS_KEPT, 2);
  const fits = new VersionFits();
  const { made, make } = counter();
  const get = (version: string) => fits.scope('drift', 'flights', version).get('pca', make(version));
  await get('v1');
  await get('v2');
  await get('v1'); // v1 used last: v2 is now the oldest
  await get('v3'); // drops v2
  await get('v1');
  await get('v3');
  await get('v2'); // refitted
  assert.deepEqual(made, ['v1', 'v2', 'v3', 'v2']);
});

test('a fit that fails is forgotten, so the next window tries again', async () => {
  const fits = new VersionFits();
  const scope = fits.scope('quality', 'flights', 'v1');
  await assert.rejects(scope.get('cbpe', async () => Promise.reject(new Error('evaluation split unreadable'))), /unreadable/);
  assert.equal(await scope.get('cbpe', async () => 'fitted'), 'fitted');
  fits.clear();
  assert.equal(await fits.scope('quality', 'flights', 'v1').get('cbpe', async () => 'refitted'), 'refitted');
});

/** A fit store on a fresh SQLite database, closed after the test. */
async function freshStore(t: TestContext) {
  const fresh = await openFreshKysely();
  t.after(() => fresh.close());
  return { store: new KyselyFitStore(fresh.db as Kysely<MonitorFitTables>), db: fresh.db as Kysely<MonitorFitTables> };
}

/** A fit holding what plain JSON cannot: non-finite numbers, -0 and a Float64Array. */
interface OddFit {
  values: number[];
  dense: Float64Array;
}
const ODD_FIT: FitFormat<OddFit> = { format: 3, schema: z.object({ values: z.array(z.custom<number>((v) => typeof v === 'number')), dense: z.instanceof(Float64Array) }) };
const WHAT: FitFormat<{ what: string }> = { format: 1, schema: z.object({ what: z.string() }) };
const oddFit = (): OddFit => ({ values: [0.1 + 0.2, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 5e-324, Number.MAX_VALUE], dense: Float64Array.from([1 / 3, -0, Number.NaN, 2 ** 60]) });

test('a fit made in one process is read by the next from the store, not made again, and is the same to the bit', async (t) => {
  const { store } = await freshStore(t);
  const made: string[] = [];
  const makeOdd = (what: string) => async () => (made.push(what), oddFit());
  const first = await new VersionFits().scope('drift', 'flights', 'v1', store).get('odd', makeOdd('first'), ODD_FIT);
  const second = await new VersionFits().scope('drift', 'flights', 'v1', store).get('odd', makeOdd('second'), ODD_FIT);
  assert.deepEqual(made, ['first'], 'the second process made no fit');
  assert.deepEqual(second, first);
  assert.ok(Object.is(second.values[4], -0) && Object.is(second.dense[1], -0), '-0 stays -0');
  // Another version, and a fit passed without a format (memory only), are made.
  await new VersionFits().scope('drift', 'flights', 'v2', store).get('odd', makeOdd('v2'), ODD_FIT);
  await new VersionFits().scope('drift', 'flights', 'v1', store).get('unformatted', makeOdd('unformatted'));
  await new VersionFits().scope('drift', 'flights', 'v1', store).get('unformatted', makeOdd('unformatted again'));
  assert.deepEqual(made, ['first', 'v2', 'unformatted', 'unformatted again']);
});

test('a stored payload that is corrupt, of another format or of the wrong shape is refitted and overwritten, with a warning', async (t) => {
  const { store } = await freshStore(t);
  const key = { kind: 'drift', model: 'flights', identity: 'v1', name: 'odd' };
  const bad = ['{"format":3,"fit":{"values":[1,', JSON.stringify({ format: 2, fit: { values: [], dense: [] } }), JSON.stringify({ format: 3, fit: { values: 'no', dense: { $float64: '' } } }), '{"format":3,"fit":{"values":[],"dense":{"$float64":"AAAA"}}}'];
  for (const payload of bad) {
    await store.write(key, payload);
    const warnings: string[] = [];
    const made: string[] = [];
    const fit = await new VersionFits({ warn: (m) => warnings.push(m) }).scope('drift', 'flights', 'v1', store).get('odd', async () => (made.push('refit'), oddFit()), ODD_FIT);
    assert.deepEqual(made, ['refit'], payload);
    assert.deepEqual(fit, oddFit());
    assert.equal(warnings.length, 1, payload);
    assert.match(warnings[0]!, /the drift fit "odd" of flights in the fit store is unusable \(.+\); fitting it again/);
    // Overwritten: the next process reads it back.
    assert.deepEqual(await new VersionFits().scope('drift', 'flights', 'v1', store).get('odd', () => Promise.reject(new Error('made again')), ODD_FIT), oddFit());
  }
});

test('a fit store that cannot be read or written never fails the window: the fit is made and kept in memory', async (t) => {
  const { store, db } = await freshStore(t);
  await db.schema.dropTable('monitor_fit').execute();
  const warnings: string[] = [];
  const fits = new VersionFits({ warn: (m) => warnings.push(m) });
  const { made, make } = counter();
  assert.deepEqual(await fits.scope('quality', 'flights', 'v1', store).get('cbpe', make('fitted'), WHAT), { what: 'fitted' });
  assert.deepEqual(await fits.scope('quality', 'flights', 'v1', store).get('cbpe', make('again'), WHAT), { what: 'fitted' });
  assert.deepEqual(made, ['fitted']);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /^reading the quality fit "cbpe" of flights from the fit store failed \(.+\); fitting it again$/);
  assert.match(warnings[1]!, /^writing the quality fit "cbpe" of flights to the fit store failed \(.+\); the next process fits it again$/);
});

test('a version served from memory tells the store of its use, so another process’s newer versions do not evict it', async (t) => {
  const { store } = await freshStore(t);
  let clock = 1_000;
  const server = new VersionFits({ now: () => clock });
  const { made, make } = counter();
  const serve = () => server.scope('drift', 'flights', 'v1', store).get('pca', make('v1'), WHAT);
  await serve();
  await store.write({ kind: 'drift', model: 'flights', identity: 'v2', name: 'pca' }, JSON.stringify({ format: 1, fit: { what: 'v2' } }), clock + 1);
  clock += FIT_USE_TOUCH_MS;
  await serve(); // from memory, its use recorded
  await store.write({ kind: 'drift', model: 'flights', identity: 'v3', name: 'pca' }, JSON.stringify({ format: 1, fit: { what: 'v3' } }), clock + 1);
  assert.deepEqual(made, ['v1']);
  // A restarted server finds v1's fit in the store; v2, used least recently, was evicted.
  assert.deepEqual(await new VersionFits().scope('drift', 'flights', 'v1', store).get('pca', make('refit'), WHAT), { what: 'v1' });
  assert.equal(await store.read({ kind: 'drift', model: 'flights', identity: 'v2', name: 'pca' }), undefined);
  assert.deepEqual(made, ['v1']);
});
