/**
 * The embedded backend: a SQLite file through better-sqlite3, behind the same Kysely
 * query layer as PostgreSQL. Only the connection set-up lives here; the stores are
 * `KyselyMetadataStore` and `KyselyRegistryStore`.
 *
 * Usage: `const db = createSqliteKysely('/project/.loom/loom.db')`
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
import type { LoomKysely, LoomTables } from './db-schema.js';

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
 * foreign keys on and a busy timeout so several processes can share it.
 */
export function createSqliteKysely(path: string): LoomKysely {
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
      fix: 'check that the folder is writable, or set LOOM_DATABASE_URL to a PostgreSQL server',
    });
  }
  return new Kysely<LoomTables>({ dialect: immediateSqliteDialect({ database: sqlite }) });
}
