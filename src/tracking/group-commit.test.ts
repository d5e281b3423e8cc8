import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GroupCommit } from './group-commit.js';

test('items that arrive during a write share the next write; a failing group is retried one by one', async () => {
  const groups: number[][] = [];
  const committed: number[] = [];
  const commit = new GroupCommit<number>(async (items) => {
    groups.push(items);
    await sleep(20);
    if (items.includes(13)) throw new Error(`13 in ${items.length}`);
    committed.push(...items);
  });
  const first = commit.submit(1);
  const rest = [2, 3, 13, 4].map((n) => commit.submit(n));
  const outcomes = await Promise.allSettled([first, ...rest]);
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  assert.equal((outcomes[3] as PromiseRejectedResult).reason.message, '13 in 1');
  assert.deepEqual(groups, [[1], [2, 3, 13, 4], [2], [3], [13], [4]]);
  assert.deepEqual(committed, [1, 2, 3, 4]);
});
