import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FLIGHT_FEATURES } from '../../../examples/flights/pipeline.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { runLoom } from '../../../test/support/cli.js';

test('loom predict --help shows examples, their --keys the raw columns the flights model takes', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const help = await runLoom(['predict', '--help'], { cwd: dir });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Examples:/);
  const keys = /--precompute --keys (\S+)/.exec(help.stdout)?.[1]?.split(',');
  assert.ok(keys && keys.length > 0, help.stdout);
  // Every model input not in the key must follow from it (distance from the route), so the keys are raw inputs.
  for (const key of keys) assert.ok(key in FLIGHT_FEATURES, `${key} is not a column the flights model takes (${Object.keys(FLIGHT_FEATURES).join(', ')})`);
});
