import assert from 'node:assert/strict';
import { test } from 'node:test';
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
