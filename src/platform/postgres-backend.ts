/**
 * The server backend: PostgreSQL through `pg`, behind the same Kysely query layer as
 * SQLite. Only the connection set-up lives here; each store sees the connection typed
 * with its own tables.
 *
 * Usage: `const { db, close } = await openPostgresDatabase('postgres://loom@db:5432/loom', 'loom')` (done by `openPlatform`)
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { LoomError } from '../core/errors.js';
import { shareTransactions } from '../core/shared-transactions.js';
import { migrateToLatest } from './migrate.js';
import { SCHEMA_NAME } from './schema-name.js';
import type { OpenedDatabase } from './sqlite-backend.js';

const INT8_OID = 20;

/**
 * Ids and epoch-millisecond timestamps are int8 columns, which `pg` returns as strings by
 * default. They all fit in a double, so this pool (and only this pool: `pg.types` is left
 * alone) reads them as numbers.
 */
const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8_OID && format !== 'binary'
    ? (value: string) => Number(value)
    : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;

/** Where a URL points, without its password, for messages. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Connects to PostgreSQL and returns a Kysely over a pool whose connections all use
 * `schema` (created if missing), so tests can each work in a fresh schema.
 * Fails with UNAVAILABLE if the server cannot be reached. Transactions nest by joining
 * (`shareTransactions`), so a change and its audit entry commit together.
 */
export async function createPostgresKysely(url: string, schema = 'public'): Promise<Kysely<unknown>> {
  if (!SCHEMA_NAME.test(schema)) {
    throw new LoomError('INVALID_ARGUMENT', `"${schema}" is not a usable PostgreSQL schema name`, {
      field: 'schema',
      fix: 'use letters, digits and underscores, starting with a letter or underscore',
    });
  }
  const pool = new pg.Pool({
    connectionString: url,
    types: { getTypeParser },
    // Set at connection start-up, so there is no extra round trip per connection.
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 10_000,
    max: 10,
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  try {
    await ensureSchema(pool, schema);
  } catch (error) {
    await pool.end().catch(() => {});
    throw unavailable(url, error);
  }
  return shareTransactions(new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }));
}

async function ensureSchema(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`create schema if not exists "${schema}"`);
  } catch (error) {
    // Two processes creating the same schema at once: the loser sees a duplicate, which is fine.
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw error;
  }
}

function unavailable(url: string, error: unknown): LoomError {
  if (error instanceof LoomError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LoomError('UNAVAILABLE', `cannot reach PostgreSQL at ${describePostgresUrl(url)}: ${message}`, {
    fix: 'check that the server is running and that the database URL (LOOM_DATABASE_URL or `database` in loom.config.json) has the right host, port, user and database',
    retryable: true,
  });
}

/** Connects to PostgreSQL (in `schema`, created if missing) and migrates it. */
export async function openPostgresDatabase(url: string, schema?: string): Promise<OpenedDatabase> {
  const db = await createPostgresKysely(url, schema);
  try {
    await migrateToLatest(db, 'postgres', schema);
  } catch (error) {
    await db.destroy().catch(() => {});
    throw error;
  }
  let closing: Promise<void> | undefined;
  return { db, close: () => (closing ??= db.destroy()) };
}
