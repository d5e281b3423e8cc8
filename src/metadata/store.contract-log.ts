/**
 * The part of the MetadataStore contract about executions' logs: lines come back oldest
 * first and page by `afterSeq`; an execution keeps its first lines up to the cap and counts
 * the rest; long lines are cut and secrets redacted; an unknown execution is NOT_FOUND.
 * Run by `describeMetadataStoreContract`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newExecution, rejectsWithCode, withStore, type MakeMetadataStore } from './contract-helpers.js';
import { EXECUTION_LOG_MAX_LINE_CHARS, EXECUTION_LOG_MAX_LINES } from './execution-log.js';
import type { MetadataStore } from './store.js';

export function describeExecutionLogContract(makeStore: MakeMetadataStore): void {
  const test = (title: string, body: (store: MetadataStore) => Promise<void>) => it(title, withStore(makeStore, body));

  describe('execution logs', () => {
    test('come back oldest first across batches, each execution its own, paged after a seq', async (store) => {
      const e = await store.createExecution(newExecution({ state: 'RUNNING' }));
      const other = await store.createExecution(newExecution());
      await store.appendExecutionLog(e.id, [{ line: 'one', loggedAt: 1_000 }, { line: 'two' }]);
      await store.appendExecutionLog(other.id, [{ line: 'elsewhere' }]);
      await store.appendExecutionLog(e.id, []);
      await store.appendExecutionLog(e.id, [{ line: 'three' }, { line: '' }]);

      const all = await store.getExecutionLog(e.id);
      assert.deepEqual(all.lines.map((l) => [l.seq, l.line]), [[1, 'one'], [2, 'two'], [3, 'three'], [4, '']]);
      assert.equal(all.lines[0].loggedAt, 1_000);
      assert.ok(all.lines[1].loggedAt > 1_000, 'a line without a time gets the time it was stored');
      assert.deepEqual([all.more, all.dropped], [false, 0]);

      const first = await store.getExecutionLog(e.id, { limit: 2 });
      assert.deepEqual([first.lines.map((l) => l.line), first.more], [['one', 'two'], true]);
      const rest = await store.getExecutionLog(e.id, { afterSeq: first.lines.at(-1)!.seq, limit: 2 });
      assert.deepEqual([rest.lines.map((l) => l.line), rest.more], [['three', ''], false]);
      assert.deepEqual((await store.getExecutionLog(e.id, { afterSeq: 4 })).lines, [], 'nothing new yet');
      assert.deepEqual((await store.getExecutionLog(other.id)).lines.map((l) => l.line), ['elsewhere']);
      assert.deepEqual((await store.getExecutionLog(other.id, {})).dropped, 0);
    });

    test('keep the first lines up to the cap and count the rest; cut long lines; redact secrets', async (store) => {
      const e = await store.createExecution(newExecution({ state: 'RUNNING' }));
      const lines = Array.from({ length: EXECUTION_LOG_MAX_LINES - 1 }, (_, i) => ({ line: `line ${i + 1}` }));
      await store.appendExecutionLog(e.id, lines);
      await store.appendExecutionLog(e.id, [{ line: 'the last kept' }, { line: 'dropped 1' }, { line: 'dropped 2' }]);
      await store.appendExecutionLog(e.id, [{ line: 'dropped 3' }]);
      const tail = await store.getExecutionLog(e.id, { afterSeq: EXECUTION_LOG_MAX_LINES - 2 });
      assert.deepEqual(tail.lines.map((l) => [l.seq, l.line]), [[EXECUTION_LOG_MAX_LINES - 1, `line ${EXECUTION_LOG_MAX_LINES - 1}`], [EXECUTION_LOG_MAX_LINES, 'the last kept']]);
      assert.equal(tail.dropped, 3);

      const f = await store.createExecution(newExecution({ state: 'RUNNING' }));
      await store.appendExecutionLog(f.id, [
        { line: 'x'.repeat(EXECUTION_LOG_MAX_LINE_CHARS + 10) },
        { line: 'reading postgres://me:hunter2@db/x and https://h/p?access_token=abc&page=2 as PGPASSWORD=hunter2, apiKey: "k1" (loss: 0.5)' },
      ]);
      const [long, secret] = (await store.getExecutionLog(f.id)).lines.map((l) => l.line);
      assert.ok(long.startsWith('x'.repeat(EXECUTION_LOG_MAX_LINE_CHARS)));
      assert.match(long.slice(EXECUTION_LOG_MAX_LINE_CHARS), /^… \(10 more characters cut\)$/);
      assert.equal(secret, 'reading postgres://me:***@db/x and https://h/p?access_token=***&page=2 as PGPASSWORD=***, apiKey: *** (loss: 0.5)');
    });

    test('keep every line of concurrent appenders once, numbered without gaps, each appender in its order', async (store) => {
      const e = await store.createExecution(newExecution({ state: 'RUNNING' }));
      const appenders = 6;
      const batches = 5;
      // Each appender sends its batches one after another while the others send theirs, so
      // on PostgreSQL (a pool of connections) their transactions overlap.
      await Promise.all(
        Array.from({ length: appenders }, async (_, a) => {
          for (let b = 0; b < batches; b++) await store.appendExecutionLog(e.id, [{ line: `${a}:${b}:0` }, { line: `${a}:${b}:1` }]);
        }),
      );
      const { lines, more, dropped } = await store.getExecutionLog(e.id, { limit: EXECUTION_LOG_MAX_LINES });
      assert.deepEqual([more, dropped], [false, 0]);
      assert.deepEqual(lines.map((l) => l.seq), Array.from({ length: appenders * batches * 2 }, (_, i) => i + 1));
      for (let a = 0; a < appenders; a++) {
        const own = lines.map((l) => l.line).filter((line) => line.startsWith(`${a}:`));
        assert.deepEqual(own, Array.from({ length: batches * 2 }, (_, i) => `${a}:${Math.floor(i / 2)}:${i % 2}`), `appender ${a}'s lines, once each and in order`);
      }
    });

    test('of an unknown execution are NOT_FOUND; bad paging is INVALID_ARGUMENT', async (store) => {
      await rejectsWithCode(store.appendExecutionLog(999_999, [{ line: 'x' }]), 'NOT_FOUND');
      await rejectsWithCode(store.getExecutionLog(999_999), 'NOT_FOUND');
      const e = await store.createExecution(newExecution());
      await rejectsWithCode(store.getExecutionLog(e.id, { afterSeq: -1 }), 'INVALID_ARGUMENT', 'afterSeq');
      await rejectsWithCode(store.getExecutionLog(e.id, { limit: 0 }), 'INVALID_ARGUMENT', 'limit');
      // @ts-expect-error: lines are checked at run time too
      await rejectsWithCode(store.appendExecutionLog(e.id, ['bare text']), 'INVALID_ARGUMENT', 'lines');
      assert.deepEqual(await store.getExecutionLog(e.id), { lines: [], more: false, dropped: 0 });
    });
  });
}
