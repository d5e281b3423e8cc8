/**
 * Runs every store's migrations. Each store declares its own (`metadata/migrations.ts`,
 * `registry/migrations.ts`, …); they share one database, one record of what ran
 * (`loom_migration`) and one sequence of names, so the union runs in name order, exactly
 * as databases made before the stores were split recorded it.
 *
 * Usage: `await migrateToLatest(db, 'sqlite')` (done by `openPlatform`).
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { LoomError } from '../core/errors.js';
import type { DialectKind, StoreMigrations } from '../core/sql-dialect.js';
import { auditMigrations } from '../audit/tables.js';
import { authMigrations } from '../auth/tables.js';
import { metadataMigrations } from '../metadata/migrations.js';
import { deploymentMigrations } from '../registry/deployment-migrations.js';
import { registryMigrations } from '../registry/migrations.js';
import { canaryLeaseMigrations } from '../monitor/canary-lease-tables.js';
import { monitorFitMigrations } from '../monitor/fit-store-tables.js';
import { monitorHistoryMigrations } from '../monitor/history-tables.js';
import { labelMigrations } from '../monitor/label-tables.js';
import { predictionLogMigrations } from '../monitor/prediction-log-table.js';
import { trackingMigrations } from '../tracking/migrations.js';

/** Every store that keeps tables in the Loom database. A new store adds its migrations here. */
export const STORE_MIGRATIONS: readonly StoreMigrations[] = [
  metadataMigrations,
  registryMigrations,
  trackingMigrations,
  deploymentMigrations,
  predictionLogMigrations,
  authMigrations,
  auditMigrations,
  monitorHistoryMigrations,
  labelMigrations,
  monitorFitMigrations,
  canaryLeaseMigrations,
];

/** Every store's migrations by name, in the order they run; INTERNAL if two stores claim one name. */
export function loomMigrations(dialect: DialectKind, stores: readonly StoreMigrations[] = STORE_MIGRATIONS): Record<string, Migration> {
  const all = new Map<string, Migration>();
  for (const store of stores) {
    for (const [name, migration] of Object.entries(store(dialect))) {
      if (all.has(name)) throw new LoomError('INTERNAL', `two stores declare the migration "${name}"`, { fix: 'give the newer migration the next free number' });
      all.set(name, migration);
    }
  }
  return Object.fromEntries([...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const MIGRATION_TABLE = 'loom_migration';
const MIGRATION_LOCK_TABLE = 'loom_migration_lock';

/**
 * Brings the database up to the newest migration. Safe when several processes open the
 * same database at once: on SQLite the whole run is one `BEGIN IMMEDIATE` transaction
 * (others wait on the busy timeout, then find nothing left to do); on PostgreSQL it holds
 * an advisory lock keyed by the schema, so tests in different schemas do not wait on each other.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: DialectKind, schema = 'public'): Promise<void> {
  const migrations = loomMigrations(dialect);
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  await db.connection().execute(async (conn) => {
    const migrator = new Migrator({
      db: conn,
      provider,
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
      // Kysely's introspection sees every schema; naming ours keeps a sibling schema's
      // migration table from being mistaken for this one.
      ...(dialect === 'postgres' ? { migrationTableSchema: schema } : {}),
    });
    if (dialect === 'sqlite') {
      // Kysely runs SQLite migrations outside a transaction; this one makes the run atomic and exclusive.
      await sql`begin immediate`.execute(conn);
      try {
        await runMigrator(migrator);
        await sql`commit`.execute(conn);
      } catch (error) {
        await sql`rollback`.execute(conn);
        throw error;
      }
    } else {
      const key = `loom.migrate.${schema}`;
      await sql`select pg_advisory_lock(hashtext(${key}))`.execute(conn);
      try {
        await runMigrator(migrator);
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${key}))`.execute(conn);
      }
    }
  });
}

/** Tries of a migration run whose setup lost a race with a concurrent schema drop (below). */
const SETUP_TRIES = 3;

/** PostgreSQL's codes for an object that a concurrent drop removed under Kysely's introspection. */
const LOST_TO_A_DROP = new Set(['42P01', '3F000']);

async function runMigrator(migrator: Migrator): Promise<void> {
  let { error, results } = await migrator.migrateToLatest();
  // Kysely's setup looks for its tables by introspecting every schema of the database; a
  // table dropped meanwhile in another schema (tests drop theirs as they finish) fails that
  // query with "relation does not exist" (42P01), or "schema does not exist" (3F000) when the
  // whole schema went, though nothing here is wrong. Nothing has run yet then, so the setup is
  // simply tried again.
  for (let tries = 1; tries < SETUP_TRIES && error && !results?.length && LOST_TO_A_DROP.has((error as { code?: string }).code ?? ''); tries++) {
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'setup';
    const message = error instanceof Error ? error.message : String(error);
    throw new LoomError('INTERNAL', `database migration ${failed} failed: ${message}`, {
      fix: 'check that the database is reachable and writable, and that no older Loom version altered it',
    });
  }
}
