/**
 * Each execution's log: the lines its executor logged (and the step runner's retry notes),
 * oldest first, so `loom server`'s dashboard can show a step's log while it runs and after.
 * Kept in its own table, not in the execution's properties: those are replaced wholesale by
 * other writers and read by every cache lookup.
 *
 * Bounded, because a chatty executor must not fill the database: the first
 * EXECUTION_LOG_MAX_LINES lines of an execution are kept and the rest only counted
 * (`dropped`), and a line longer than EXECUTION_LOG_MAX_LINE_CHARS is cut. Secrets are
 * redacted before a line is stored, by the credentials rule of `core/redact.ts`.
 *
 * Usage: `await metadata.appendExecutionLog(id, [{ line: 'ingest: span 3' }])`, then
 *        `const { lines } = await metadata.getExecutionLog(id, { afterSeq: 0 })`.
 */
import { sql, type Migration } from 'kysely';
import { LoomError } from '../core/errors.js';
import { isSecretName, redactUrl, REDACTED } from '../core/redact.js';
import { dialectOf, type MigrationDb } from '../core/sql-dialect.js';
import type { MetadataKysely } from './db-schema.js';
import { chunks, INSERT_CHUNK_ROWS } from './query-helpers.js';

/** Lines kept per execution; later ones are counted as dropped. */
export const EXECUTION_LOG_MAX_LINES = 5000;
/** Characters kept per line; the rest is cut and said so. */
export const EXECUTION_LOG_MAX_LINE_CHARS = 4000;
/** Lines per `getExecutionLog` page when the caller names no limit, and the most it may ask for. */
export const EXECUTION_LOG_DEFAULT_PAGE = 1000;
export const EXECUTION_LOG_MAX_PAGE = EXECUTION_LOG_MAX_LINES;

/** A line to append; `loggedAt` (epoch ms) defaults to when it is stored. */
export interface NewExecutionLogLine {
  line: string;
  loggedAt?: number;
}

/** A stored line: `seq` counts from 1 within its execution. */
export interface ExecutionLogLine {
  seq: number;
  loggedAt: number;
  line: string;
}

export interface ExecutionLogPage {
  lines: ExecutionLogLine[];
  /** Whether lines after the last one here exist (ask again with its `seq` as `afterSeq`). */
  more: boolean;
  /** Lines logged beyond EXECUTION_LOG_MAX_LINES and not kept. */
  dropped: number;
}

export interface ExecutionLogRequest {
  /** Only lines with a greater `seq` (default 0: from the first). */
  afterSeq?: number;
  /** At most this many lines (default EXECUTION_LOG_DEFAULT_PAGE). */
  limit?: number;
}

export const EXECUTION_LOG_MIGRATION = '0012_execution_log';

/** Migration 0012: the log lines of each execution, and the count of those beyond the cap. */
export const executionLogMigration: Migration = {
  async up(db: MigrationDb) {
    // A line's key is its place in its execution's log, so a page is one index range scan.
    await db.schema
      .createTable('execution_log')
      .addColumn('execution_id', 'bigint', (c) => c.notNull().references('execution.id'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('logged_at', 'bigint', (c) => c.notNull())
      .addColumn('line', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('execution_log_pk', ['execution_id', 'seq'])
      .execute();
    await db.schema
      .createTable('execution_log_dropped')
      .addColumn('execution_id', 'bigint', (c) => c.primaryKey().references('execution.id'))
      .addColumn('dropped', 'bigint', (c) => c.notNull())
      .execute();
  },
};

// A URL anywhere in a line (its password and secret query parameters), and `name=value` or
// `name: value` where the name is a secret's (`PGPASSWORD=…`, `api_key: …`).
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;
const NAMED_VALUE = /([A-Za-z_][\w.-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;]+)/g;

/** A line as it is stored: redacted, cut to the cap, without the NUL PostgreSQL's text refuses. */
export function storedLine(line: string): string {
  let text = line.replaceAll('\u0000', '').replace(URL_IN_TEXT, (url) => redactUrl(url));
  text = text.replace(NAMED_VALUE, (whole, name: string, separator: string) =>
    isSecretName(name) ? `${name}${separator}${REDACTED}` : whole,
  );
  if (text.length <= EXECUTION_LOG_MAX_LINE_CHARS) return text;
  return `${text.slice(0, EXECUTION_LOG_MAX_LINE_CHARS)}… (${text.length - EXECUTION_LOG_MAX_LINE_CHARS} more characters cut)`;
}

function checkedCount(value: unknown, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new LoomError('INVALID_ARGUMENT', `${field} must be an integer from ${min} to ${max}, got ${String(value)}`, { field });
  }
  return value as number;
}

/**
 * The execution's id, checked to exist. With `lock`, inside a transaction, appenders to one
 * execution queue here until the holder commits, so each reads the last seq after the one
 * before it wrote: on PostgreSQL by a row lock on the execution (NO KEY UPDATE, so inserts
 * that only reference the row are not held up); SQLite's BEGIN IMMEDIATE already holds the
 * database's single write lock.
 */
async function requireExecution(db: MetadataKysely, executionId: unknown, lock = false): Promise<number> {
  const id = checkedCount(executionId, 'executionId', 1, Number.MAX_SAFE_INTEGER);
  const query = db.selectFrom('execution').select('id').where('id', '=', id);
  const found = await (lock && dialectOf(db) === 'postgres' ? query.forNoKeyUpdate() : query).executeTakeFirst();
  if (!found) throw new LoomError('NOT_FOUND', `no execution with id ${id}`, { field: 'executionId' });
  return id;
}

/**
 * Appends lines to an execution's log in one transaction, after the ones it has, safe against
 * concurrent appenders (each batch stays contiguous); NOT_FOUND for an unknown execution.
 * Lines beyond the cap are counted, not kept.
 */
export async function appendExecutionLog(db: MetadataKysely, executionId: number, lines: readonly NewExecutionLogLine[], now: number): Promise<void> {
  if (!Array.isArray(lines) || !lines.every((l) => typeof l?.line === 'string' && (l.loggedAt === undefined || Number.isSafeInteger(l.loggedAt)))) {
    throw new LoomError('INVALID_ARGUMENT', 'lines must be a list of { line: string, loggedAt?: epoch milliseconds }', { field: 'lines' });
  }
  await db.transaction().execute(async (trx) => {
    const id = await requireExecution(trx, executionId, true);
    if (lines.length === 0) return;
    const last = await trx.selectFrom('execution_log').select((eb) => eb.fn.max('seq').as('seq')).where('execution_id', '=', id).executeTakeFirst();
    const stored = Number(last?.seq ?? 0);
    const kept = lines.slice(0, Math.max(0, EXECUTION_LOG_MAX_LINES - stored));
    const rows = kept.map((l, i) => ({ execution_id: id, seq: stored + i + 1, logged_at: l.loggedAt ?? now, line: storedLine(l.line) }));
    for (const part of chunks(rows, INSERT_CHUNK_ROWS)) await trx.insertInto('execution_log').values(part).execute();
    const dropped = lines.length - kept.length;
    if (dropped > 0) {
      await trx
        .insertInto('execution_log_dropped')
        .values({ execution_id: id, dropped })
        .onConflict((oc) => oc.column('execution_id').doUpdateSet({ dropped: sql<number>`execution_log_dropped.dropped + ${dropped}` }))
        .execute();
    }
  });
}

/** A page of an execution's log, oldest first; NOT_FOUND for an unknown execution. */
export async function getExecutionLog(db: MetadataKysely, executionId: number, request: ExecutionLogRequest = {}): Promise<ExecutionLogPage> {
  const afterSeq = checkedCount(request.afterSeq ?? 0, 'afterSeq', 0, Number.MAX_SAFE_INTEGER);
  const limit = checkedCount(request.limit ?? EXECUTION_LOG_DEFAULT_PAGE, 'limit', 1, EXECUTION_LOG_MAX_PAGE);
  const id = await requireExecution(db, executionId);
  const rows = await db
    .selectFrom('execution_log')
    .select(['seq', 'logged_at', 'line'])
    .where('execution_id', '=', id)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit + 1)
    .execute();
  const dropped = await db.selectFrom('execution_log_dropped').select('dropped').where('execution_id', '=', id).executeTakeFirst();
  return {
    lines: rows.slice(0, limit).map((r) => ({ seq: Number(r.seq), loggedAt: Number(r.logged_at), line: r.line })),
    more: rows.length > limit,
    dropped: Number(dropped?.dropped ?? 0),
  };
}
