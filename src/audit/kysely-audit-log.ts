/**
 * The one AuditLog implementation, over Kysely, in the Loom database (table `audit_log`).
 * An append reads the head and inserts after it inside one transaction that holds the
 * log's lock: on SQLite the transaction is BEGIN IMMEDIATE (the database's single writer
 * lock), on PostgreSQL a transaction-scoped advisory lock keyed by the schema. The primary
 * key on `seq` would refuse a fork even if the lock were bypassed. `record` runs a change
 * and its append in one transaction of the shared database (`shareTransactions`): the
 * change's own transactions join it, and the log's lock is taken last, just before commit,
 * so writers to different models still run side by side until they append.
 *
 * Usage: `await platform.audit.append([{ actor, address, action, target }])` (built by `openPlatform`)
 */
import { sql } from 'kysely';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { canonicalJson, type JsonValue } from '../core/json.js';
import { parseInput } from '../core/validation.js';
import { sharesTransactions } from '../core/shared-transactions.js';
import type { DialectKind } from '../core/sql-dialect.js';
import type { Page } from '../metadata/types.js';
import type { AuditLog } from './audit-log.js';
import { ChainChecker, entryHash, GENESIS_HASH, type StoredEntry } from './chain.js';
import type { AuditKysely } from './tables.js';
import type { AuditEntry, AuditQuery, AuditVerification, NewAuditEntry } from './types.js';

const CHUNK = 1000;

const newEntrySchema = z
  .object({
    actor: z.string().min(1).max(500),
    address: z.string().min(1).max(500),
    action: z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/, 'noun.verb, such as alias.set'),
    model: z.string().min(1).nullable().optional(),
    target: z.string().min(1).max(1000),
    reason: z.string().max(10_000).optional(),
    before: z.json().nullable().optional(),
    after: z.json().nullable().optional(),
  })
  .strict();

const querySchema = z.object({
  since: z.number().int().nonnegative().optional(),
  model: z.string().min(1).optional(),
  pageSize: z.number().int().min(1).max(10_000).default(100),
  pageToken: z.string().regex(/^\d+$/, 'a page token from an earlier answer').optional(),
});

function jsonText(value: JsonValue | null | undefined): string | null {
  return value === undefined || value === null ? null : canonicalJson(value);
}

function toEntry(row: StoredEntry): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    address: row.address,
    action: row.action,
    model: row.model,
    target: row.target,
    reason: row.reason,
    before: row.before === null ? null : (JSON.parse(row.before) as JsonValue),
    after: row.after === null ? null : (JSON.parse(row.after) as JsonValue),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export class KyselyAuditLog implements AuditLog {
  constructor(
    private readonly db: AuditKysely,
    private readonly dialect: DialectKind,
  ) {}

  async append(entries: NewAuditEntry[]): Promise<AuditEntry[]> {
    const valid = entries.map((entry, i) => parseInput(newEntrySchema, entry, { what: `audit entry ${i}`, fix: 'give actor, address, action (noun.verb) and target' }));
    if (valid.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('loom.audit.' || current_schema()))`.execute(trx);
      const head = await trx.selectFrom('audit_log').select(['seq', 'hash', 'at']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      let seq = head?.seq ?? 0;
      let prev = head?.hash ?? GENESIS_HASH;
      // One clock reading per batch, never before the head's: the log reads in time order.
      const at = Math.max(Date.now(), head?.at ?? 0);
      const rows: StoredEntry[] = valid.map((entry) => {
        const content = {
          seq: ++seq,
          at,
          actor: entry.actor,
          address: entry.address,
          action: entry.action,
          model: entry.model ?? null,
          target: entry.target,
          reason: entry.reason ?? '',
          before: jsonText(entry.before as JsonValue | undefined),
          after: jsonText(entry.after as JsonValue | undefined),
          prev_hash: prev,
        };
        prev = entryHash(content);
        return { ...content, hash: prev };
      });
      for (let i = 0; i < rows.length; i += CHUNK) await trx.insertInto('audit_log').values(rows.slice(i, i + CHUNK)).execute();
      return rows.map(toEntry);
    });
  }

  async record<T>(change: () => Promise<T>, entryOf: (result: T) => NewAuditEntry): Promise<T> {
    if (!sharesTransactions(this.db)) {
      // A plain Kysely would run the change outside the log's transaction (on SQLite, wait for it forever).
      throw new LoomError('INTERNAL', 'the audit log was opened on a database whose transactions do not join', { fix: 'open the database the way openPlatform does (createSqliteKysely / createPostgresKysely)' });
    }
    return this.db.transaction().execute(async () => {
      const result = await change();
      const entry = entryOf(result);
      try {
        await this.append([entry]);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new LoomError('INTERNAL', `${entry.action} on ${entry.target} was not made: its audit entry could not be written (${message})`, {
          fix: 'check the database (`loom audit verify` checks the log), then try again',
        });
      }
      return result;
    });
  }

  async list(query: AuditQuery = {}): Promise<Page<AuditEntry>> {
    const valid = parseInput(querySchema, query, { what: 'the audit query' });
    let select = this.db.selectFrom('audit_log').selectAll();
    if (valid.since !== undefined) select = select.where('at', '>=', valid.since);
    if (valid.model !== undefined) select = select.where('model', '=', valid.model);
    if (valid.pageToken !== undefined) select = select.where('seq', '<', Number(valid.pageToken));
    const rows = await select.orderBy('seq', 'desc').limit(valid.pageSize + 1).execute();
    const items = rows.slice(0, valid.pageSize).map(toEntry);
    return rows.length > valid.pageSize ? { items, nextPageToken: String(items[items.length - 1]!.seq) } : { items };
  }

  async *stream(options: { since?: number } = {}): AsyncIterable<AuditEntry> {
    for await (const row of this.storedRows(options.since)) yield toEntry(row);
  }

  async verify(options: { anchor?: { seq: number; hash: string } } = {}): Promise<AuditVerification> {
    const anchor = options.anchor;
    if (anchor !== undefined && (!Number.isSafeInteger(anchor.seq) || anchor.seq < 1 || !/^[0-9a-f]{64}$/.test(anchor.hash))) {
      throw new LoomError('INVALID_ARGUMENT', 'the anchor must be a sequence number and a 64-digit hex hash', { field: 'anchor', fix: 'pass the head printed by an earlier `loom audit verify`, as SEQ:HASH' });
    }
    const checker = new ChainChecker(anchor);
    for await (const row of this.storedRows()) checker.check(row);
    const problems = checker.finish();
    return { ok: problems.length === 0, checked: checker.checked, head: checker.head(), problems };
  }

  /** Rows in sequence order, a chunk per query, keyed on `seq` (never OFFSET). */
  private async *storedRows(since?: number): AsyncIterable<StoredEntry> {
    let after = 0;
    for (;;) {
      let select = this.db.selectFrom('audit_log').selectAll().where('seq', '>', after);
      if (since !== undefined) select = select.where('at', '>=', since);
      const rows = await select.orderBy('seq').limit(CHUNK).execute();
      yield* rows;
      if (rows.length < CHUNK) return;
      after = rows[rows.length - 1]!.seq;
    }
  }
}
