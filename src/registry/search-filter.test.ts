import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoomError } from '../core/errors.js';
import { parseModelFilter, parseVersionFilter } from './search-filter.js';

test('model filters: name operators, tags (backquoted as MLflow writes them), AND', () => {
  assert.deepEqual(parseModelFilter(undefined), {});
  assert.deepEqual(parseModelFilter("name = 'flights'"), { name: 'flights' });
  assert.deepEqual(parseModelFilter("name like \"fl%\" and name ILIKE '%S'"), { nameLike: 'fl%', nameILike: '%S' });
  assert.deepEqual(parseModelFilter("name LIKE 'it''s%' AND tag.`mlflow.prompt.is_prompt` != 'true'"), {
    nameLike: "it's%",
    tags: [{ key: 'mlflow.prompt.is_prompt', op: '!=', value: 'true' }],
  });
  assert.deepEqual(parseModelFilter("tags.team = 'ml'"), { tags: [{ key: 'team', op: '=', value: 'ml' }] });
});

test('version filters add run_id and source_path', () => {
  assert.deepEqual(parseVersionFilter("name='m' AND run_id='r1' AND source_path='s'"), { name: 'm', runId: 'r1', source: 's' });
});

test('anything else is INVALID_ARGUMENT on the filter field', () => {
  for (const bad of ["run_id = 'r'", "name != 'x'", "name = x", "name = 'x' OR name = 'y'", "name = 'x' name = 'y'", "tags.team LIKE 'm%'", "creation_timestamp > 5"]) {
    const parse = bad.startsWith('run_id') ? parseModelFilter : parseVersionFilter;
    assert.throws(() => parse(bad), (e: unknown) => isLoomError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'filter', bad);
  }
});

test('a LIKE or ILIKE pattern ending in a lone backslash is refused on the filter field (an escaped one is kept)', () => {
  for (const bad of ["name LIKE 'flights\\'", "name ILIKE '%s\\\\\\'"]) {
    assert.throws(() => parseModelFilter(bad), (e: unknown) => isLoomError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'filter' && /lone backslash/.test(e.message), bad);
  }
  assert.deepEqual(parseModelFilter("name LIKE 'a\\\\'"), { nameLike: 'a\\\\' });
});
