import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { nearestName, unknownKeySuggestion } from './suggest.js';

test('nearestName picks the closest candidate within a third of the length, ignoring case', () => {
  assert.equal(nearestName('epoch', ['seed', 'epochs', 'l2']), 'epochs');
  assert.equal(nearestName('lerningRate', ['learningRate', 'l1']), 'learningRate');
  assert.equal(nearestName('LABELCOLUMN', ['labelColumn', 'features']), 'labelColumn');
  // A swap of neighbouring letters is one edit.
  assert.equal(nearestName('trian', ['train', 'tune', 'transform']), 'train');
  assert.equal(nearestName('colour', ['seed', 'epochs']), undefined);
});

test('unknownKeySuggestion names the nearest key at the place of the unknown one, through discriminated unions, lists and maps', () => {
  const schema = z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('a'), epochs: z.number(), slices: z.array(z.object({ feature: z.string() }).strict()).optional() }).strict(),
    z.object({ kind: z.literal('b'), numTrees: z.number(), overrides: z.record(z.string(), z.object({ analyzer: z.string() }).strict()).optional() }).strict(),
  ]);
  const hint = (value: unknown) => {
    const result = schema.safeParse(value);
    assert.equal(result.success, false);
    // A misspelt required key is also missing: the unknown key's issue is the one with the hint.
    const issue = result.error!.issues.find((candidate) => candidate.code === 'unrecognized_keys');
    assert.ok(issue, JSON.stringify(result.error!.issues));
    return unknownKeySuggestion(schema, issue);
  };
  assert.equal(hint({ kind: 'a', epoch: 3 }), ' (did you mean `epochs`?)');
  assert.equal(hint({ kind: 'a', epochs: 3, slices: [{ featur: 'x' }] }), ' (did you mean `feature`?)');
  assert.equal(hint({ kind: 'b', numTrees: 3, overrides: { x: { analyser: 'zscore' } } }), ' (did you mean `analyzer`?)');
  assert.equal(hint({ kind: 'a', epochs: 3, colour: 'red' }), '');
});
