/**
 * The embedded backend: a SQLite file through better-sqlite3, behind the same Kysely
 * query layer as PostgreSQL. Only the connection set-up lives here; each store sees the
 * connection typed with its own tables.
 *
 * Usage: `const { db, close } = await openSqliteDatabase('/project/.loom/loom.db')` (done by `openPlatform`)
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type SqliteDialectConfig,
} from 'kysely';
import { LoomError } from '../core/errors.js';
import { shareTransactions } from '../core/shared-transactions.js';
import { migrateToLatest } from './migrate.js';

/** How long a writer waits for another process's write transaction before failing. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/**
 * Kysely's driver opens transactions with a plain (deferred) BEGIN. A deferred transaction
 * that reads and then writes fails at once with SQLITE_BUSY when another process wrote in
 * between, without waiting on the busy timeout; BEGIN IMMEDIATE takes the write lock up
 * front, so concurrent writers queue instead of failing.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

function immediateSqliteDialect(config: SqliteDialectConfig): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new ImmediateSqliteDriver(config),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db) => new SqliteIntrospector(db),
  };
}

/**
 * Opens (creating it and its folder if needed) a SQLite database file in WAL mode, with
 * foreign keys on and a busy timeout so several processes can share it. Its transactions
 * nest by joining (`shareTransactions`), so a change and its audit entry commit together.
 */
export function createSqliteKysely(path: string): Kysely<unknown> {
  let sqlite: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    sqlite = new Database(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    // busy_timeout first: switching to WAL needs a lock another process may hold.
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    sqlite.pragma('journal_mode = WAL');
    // In WAL mode NORMAL is safe against a crashed process; only a power cut can lose the last commits.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new LoomError('UNAVAILABLE', `cannot open the SQLite database at ${path}: ${message}`, {
      fix: 'check that the folder is writable, or set LOOM_DATABASE_URL (or `database` in loom.config.json) to a PostgreSQL server',
    });
  }
  return shareTransactions(new Kysely<unknown>({ dialect: immediateSqliteDialect({ database: sqlite }) }));
}

/** A migrated connection and how to give it back. */
export interface OpenedDatabase {
  db: Kysely<unknown>;
  close(): Promise<void>;
}

async function migrated(db: Kysely<unknown>, migrate: () => Promise<void>): Promise<Kysely<unknown>> {
  try {
    await migrate();
    return db;
  } catch (error) {
    await db.destroy().catch(() => {});
    throw error;
  }
}

/**
 * better-sqlite3 is synchronous: a second connection to the same file in this process
 * would wait for a lock while blocking the event loop the first connection needs to
 * release it. So every open of one file in one process shares one connection, closed
 * when the last handle is.
 */
const sharedSqlite = new Map<string, { ready: Promise<Kysely<unknown>>; handles: number }>();

/** Opens and migrates a SQLite database file (`:memory:` for a private in-memory one). */
export async function openSqliteDatabase(path: string): Promise<OpenedDatabase> {
  if (path === ':memory:') {
    // An in-memory database is private to its connection, so it is never shared.
    const db = createSqliteKysely(path);
    await migrated(db, () => migrateToLatest(db, 'sqlite'));
    let closing: Promise<void> | undefined;
    return { db, close: () => (closing ??= db.destroy()) };
  }
  let entry = sharedSqlite.get(path);
  if (!entry) {
    const ready = (async () => {
      const db = createSqliteKysely(path);
      return migrated(db, () => migrateToLatest(db, 'sqlite'));
    })();
    entry = { ready, handles: 0 };
    sharedSqlite.set(path, entry);
    ready.catch(() => sharedSqlite.delete(path));
  }
  entry.handles++;
  const shared = entry;
  let db: Kysely<unknown>;
  try {
    db = await shared.ready;
  } catch (error) {
    shared.handles--;
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shared.handles--;
      if (shared.handles === 0) {
        sharedSqlite.delete(path);
        await db.destroy();
      }
    })());
  return { db, close };
}
