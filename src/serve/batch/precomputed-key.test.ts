import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyFromNamedValues, precomputedKey } from './precomputed-key.js';

const columns = ['origin', 'destination', 'hour'];

test('a key joins the values in key-column order with |, integers in decimal', () => {
  assert.equal(precomputedKey(['SFO', 'LAX', 8n], columns), 'SFO|LAX|8');
  assert.equal(precomputedKey(['SFO', 'LAX', 8], columns), 'SFO|LAX|8');
  assert.equal(precomputedKey(['SFO', true, 0.5], columns), 'SFO|true|0.5');
});

test('a NULL key value means no key; a value holding the separator is refused, naming the column', () => {
  assert.equal(precomputedKey(['SFO', null, 8n], columns), undefined);
  assert.throws(() => precomputedKey(['SFO', 'L|X', 8n], columns), { code: 'INVALID_ARGUMENT', field: 'destination' });
});

test('named values build the same key, and a missing one is named', () => {
  assert.equal(keyFromNamedValues({ hour: '8', origin: 'SFO', destination: 'LAX' }, columns), 'SFO|LAX|8');
  assert.throws(() => keyFromNamedValues({ origin: 'SFO', hour: '8' }, columns), { code: 'INVALID_ARGUMENT', field: 'destination' });
});
