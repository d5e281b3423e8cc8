/**
 * Bad arguments to `loom monitor status|windows|drift|quality` (and a torn file to `labels load`): each is refused with the
 * flag or argument it is about and a fix, by its exit code, and never with a stack trace;
 * the options every monitor command shares are checked the same way for all of them.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXIT_CODE, LoomError } from '../../core/errors.js';
import { runCompiledLoom } from '../../../test/support/cli.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { parseOptions } from '../options.js';
import { monitorOptionsSchema } from './monitor.js';

test('the shared monitor options refuse bad windows, times, empty ranges and roles, naming the flag', () => {
  const refused = (raw: Record<string, unknown>) => {
    try {
      parseOptions(monitorOptionsSchema, { window: 'daily', ...raw });
    } catch (error) {
      assert.ok(error instanceof LoomError, String(error));
      assert.equal(error.code, 'INVALID_ARGUMENT');
      return { field: error.field, message: error.message };
    }
    assert.fail(`accepted: ${JSON.stringify(raw)}`);
  };
  for (const window of ['weekly', 'requests:0', 'requests:-5', 'requests:1e3', 'requests:', `requests:${'9'.repeat(30)}`]) {
    assert.equal(refused({ window }).field, '--window', window);
  }
  assert.match(refused({ window: 'requests:1000000001' }).message, /N from 1 to 1000000000/);
  assert.equal(refused({ from: 'yesterday' }).field, '--from');
  assert.equal(refused({ to: '2026-01-05T25:00:00Z' }).field, '--to');
  assert.match(refused({ from: '2026-02-01', to: '2026-01-01' }).message, /--from: the range is empty: --from must be before --to/);
  assert.equal(refused({ from: '2026-01-01', to: '2026-01-01' }).field, '--from', 'an empty range of no length');
  assert.equal(refused({ role: 'primary,bogus' }).field, '--role');
  assert.deepEqual(parseOptions(monitorOptionsSchema, { window: 'requests:1000000000', from: '2026-01-01', to: '2026-01-02' }).window, { kind: 'requests', size: 1_000_000_000 });
});

test('loom monitor refuses an empty range and a torn label file with exit codes and fixes, for JSON callers too, without a stack trace', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  // A project (`loom monitor status nope@1` on one is monitor.test.ts's case).
  await (await openTestPlatform(join(dir, '.loom'))).close();
  await writeFile(join(dir, 'torn.ndjson'), '{"request_id": "r0", "label": 1}\n{"request_id": "r1", "la');
  const cases: [string[], number, RegExp][] = [
    // Quality once took any range: it shares the check now.
    [['monitor', 'quality', 'flights@1', '--from', '2026-02-01', '--to', '2026-01-01'], EXIT_CODE.INVALID_ARGUMENT, /--from must be before --to/],
    [['monitor', 'labels', 'load', 'flights', 'torn.ndjson', '--json'], EXIT_CODE.INVALID_ARGUMENT, /cannot read the labels/],
  ];
  for (const [args, code, message] of cases) {
    const result = await runCompiledLoom(args, { cwd: dir });
    assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.match(result.stderr, /^error: .*\n {2}fix: /m, `${args.join(' ')}: a fix`);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(result.stdout, '', 'nothing half-printed');
  }
});
