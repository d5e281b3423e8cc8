/**
 * The contract every AuditLog backend passes. `makeLog` gives each test an empty log and
 * a raw SQL runner on its database, with which the tests play an attacker who can reach
 * the database directly (drop the guard triggers, edit a row, delete one).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../core/json.js';
import { rejectsWithCode } from '../metadata/contract-helpers.js';
import { entryHash } from './chain.js';
import type { AuditLog } from './audit-log.js';
import type { NewAuditEntry } from './types.js';

export interface AuditLogFixture {
  audit: AuditLog;
  /** Runs raw SQL on the log's database, as someone with direct access could. */
  exec(statement: string): Promise<void>;
  /** The statements that drop the append-only triggers on this backend. */
  dropGuards: string[];
  close(): Promise<void>;
}

const entry = (i: number, model = 'flights'): NewAuditEntry => ({
  actor: i % 2 ? 'alice' : 'bob',
  address: '127.0.0.1',
  action: 'alias.set',
  model,
  target: `${model}@champion`,
  reason: i === 2 ? 'auc +0.02' : undefined,
  before: { version: i },
  after: { version: i + 1 },
});

export function describeAuditLogContract(name: string, makeLog: () => Promise<AuditLogFixture>): void {
  const test = (title: string, body: (fixture: AuditLogFixture) => Promise<void>) =>
    it(title, async () => {
      const fixture = await makeLog();
      try {
        await body(fixture);
      } finally {
        await fixture.close();
      }
    });

  describe(`AuditLog contract: ${name}`, () => {
    test('appends numbered, hash-chained entries and lists them newest first', async ({ audit }) => {
      const first = await audit.append([entry(1)]);
      const more = await audit.append([entry(2), entry(3, 'taxis')]);
      assert.deepEqual([...first, ...more].map((e) => e.seq), [1, 2, 3]);
      assert.equal(first[0]!.prevHash, '0'.repeat(64));
      assert.equal(more[0]!.prevHash, first[0]!.hash);
      assert.equal(more[1]!.prevHash, more[0]!.hash);
      assert.deepEqual(more[1]!.before, { version: 3 });
      assert.equal(more[1]!.actor, 'alice');
      assert.deepEqual([more[0]!.reason, more[1]!.reason], ['auc +0.02', '']);

      const page = await audit.list({ pageSize: 2 });
      assert.deepEqual(page.items.map((e) => e.seq), [3, 2]);
      const rest = await audit.list({ pageSize: 2, pageToken: page.nextPageToken });
      assert.deepEqual(rest.items, first);
      assert.equal(rest.nextPageToken, undefined);
      assert.deepEqual((await audit.list({ model: 'taxis' })).items.map((e) => e.seq), [3]);
      assert.deepEqual((await audit.list({ since: Date.now() + 60_000 })).items, []);
      const streamed = [];
      for await (const e of audit.stream()) streamed.push(e);
      assert.deepEqual(streamed, [...first, ...more]);
      assert.deepEqual(await audit.verify(), { ok: true, checked: 3, head: { seq: 3, hash: more[1]!.hash }, problems: [] });
    });

    test('refuses bad entries and changes nothing', async ({ audit }) => {
      await audit.append([entry(1)]);
      await rejectsWithCode(audit.append([entry(2), { ...entry(3), action: 'DROP TABLE' }]), 'INVALID_ARGUMENT');
      await rejectsWithCode(audit.append([{ ...entry(4), actor: '' }]), 'INVALID_ARGUMENT');
      assert.equal((await audit.verify()).checked, 1);
    });

    test('the database itself refuses to update or delete entries', async ({ audit, exec }) => {
      await audit.append([entry(1)]);
      await assert.rejects(exec(`update audit_log set actor = 'mallory'`), /append-only/);
      await assert.rejects(exec(`delete from audit_log`), /append-only/);
      assert.equal((await audit.verify()).ok, true);
    });

    test('verify names an edited entry, a removed one, and a tail cut off after an anchor', async ({ audit, exec, dropGuards }) => {
      await audit.append([1, 2, 3, 4, 5, 6].map((i) => entry(i)));
      const anchor = (await audit.verify()).head!;
      for (const statement of dropGuards) await exec(statement);
      await exec(`update audit_log set actor = 'mallory' where seq = 2`);
      await exec(`delete from audit_log where seq = 4`);
      const report = await audit.verify();
      assert.equal(report.ok, false);
      assert.deepEqual(report.problems.map((p) => [p.kind, p.seq]), [['tampered', 2], ['missing', 4]]);

      await exec(`delete from audit_log where seq = 6`);
      const cut = await audit.verify({ anchor });
      assert.deepEqual(cut.problems.map((p) => [p.kind, p.seq]), [['tampered', 2], ['missing', 4], ['missing', 6]]);
      await rejectsWithCode(audit.verify({ anchor: { seq: 0, hash: 'x' } }), 'INVALID_ARGUMENT', 'anchor');
    });

    test('verify catches an entry rewritten with a recomputed hash by the broken link after it', async ({ audit, exec, dropGuards }) => {
      const [, second] = await audit.append([entry(1), entry(2), entry(3)]);
      for (const statement of dropGuards) await exec(statement);
      // The attacker knows the hash recipe: entry 2 is rewritten with a hash that matches it.
      const forged = { seq: 2, at: second!.at, actor: 'mallory', address: second!.address, action: second!.action, model: second!.model, target: second!.target, reason: second!.reason, before: canonicalJson(second!.before), after: canonicalJson(second!.after), prev_hash: second!.prevHash };
      await exec(`update audit_log set actor = 'mallory', hash = '${entryHash(forged)}' where seq = 2`);
      const report = await audit.verify();
      assert.deepEqual(report.problems.map((p) => [p.kind, p.seq]), [['broken-link', 3]]);
    });
  });
}
