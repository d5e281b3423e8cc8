/**
 * The Loom database schema as versioned migrations, run by Kysely's Migrator from an
 * in-code provider. Column types are the same on both backends except the
 * auto-increment id, so every table is written once.
 *
 * Usage: `await migrateToLatest(db, 'sqlite')` (done by `openDatabase`).
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { LoomError } from '../core/errors.js';
import type { DialectKind, LoomKysely } from './db-schema.js';

// Migrations create tables in a schema that has no types yet; the builder needs no table types.
type AnyDb = Kysely<unknown>;
type TableBuilder = ReturnType<AnyDb['schema']['createTable']>;

/** Adds the auto-increment primary key `id`, which is the one thing the dialects spell differently. */
function withId(table: TableBuilder, dialect: DialectKind): TableBuilder {
  return dialect === 'sqlite'
    ? table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity());
}

function metadataMigration(dialect: DialectKind): Migration {
  return {
    async up(db: AnyDb) {
      await withId(db.schema.createTable('artifact_type'), dialect)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('artifact'), dialect)
        .addColumn('type_id', 'bigint', (c) => c.notNull().references('artifact_type.id'))
        .addColumn('uri', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('artifact_type_id_idx').on('artifact').columns(['type_id', 'id']).execute();

      await withId(db.schema.createTable('execution'), dialect)
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('step_name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('code_commit', 'text')
        .addColumn('code_dirty', 'integer', (c) => c.notNull())
        .addColumn('cache_key', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .execute();
      await db.schema.createIndex('execution_cache_key_idx').on('execution').columns(['cache_key', 'id']).execute();
      await db.schema.createIndex('execution_type_name_idx').on('execution').columns(['type_name', 'id']).execute();

      await withId(db.schema.createTable('event'), dialect)
        .addColumn('artifact_id', 'bigint', (c) => c.notNull().references('artifact.id'))
        .addColumn('execution_id', 'bigint', (c) => c.notNull().references('execution.id'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // The unique index also serves "events of these executions"; the second serves
      // lineage and cache checks, which start from artifacts.
      await db.schema
        .createIndex('event_execution_idx')
        .on('event')
        .columns(['execution_id', 'type', 'name', 'artifact_id'])
        .unique()
        .execute();
      await db.schema.createIndex('event_artifact_idx').on('event').columns(['artifact_id', 'type']).execute();

      await withId(db.schema.createTable('context'), dialect)
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('context_type_name_unique', ['type_name', 'name'])
        .execute();

      await db.schema
        .createTable('attribution')
        .addColumn('context_id', 'bigint', (c) => c.notNull().references('context.id'))
        .addColumn('artifact_id', 'bigint', (c) => c.notNull().references('artifact.id'))
        .addPrimaryKeyConstraint('attribution_pk', ['context_id', 'artifact_id'])
        .execute();
      await db.schema.createIndex('attribution_artifact_idx').on('attribution').column('artifact_id').execute();

      await db.schema
        .createTable('association')
        .addColumn('context_id', 'bigint', (c) => c.notNull().references('context.id'))
        .addColumn('execution_id', 'bigint', (c) => c.notNull().references('execution.id'))
        .addPrimaryKeyConstraint('association_pk', ['context_id', 'execution_id'])
        .execute();
      await db.schema.createIndex('association_execution_idx').on('association').column('execution_id').execute();
    },
  };
}

function registryMigration(dialect: DialectKind): Migration {
  return {
    async up(db: AnyDb) {
      await withId(db.schema.createTable('registered_model'), dialect)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('latest_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('model_version'), dialect)
        .addColumn('model_id', 'bigint', (c) => c.notNull().references('registered_model.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('artifact_id', 'bigint')
        .addColumn('run_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('signature', 'text')
        .addColumn('metrics', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('model_version_unique', ['model_id', 'version'])
        .execute();

      await db.schema
        .createTable('model_alias')
        .addColumn('model_id', 'bigint', (c) => c.notNull().references('registered_model.id'))
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_alias_pk', ['model_id', 'alias'])
        .addForeignKeyConstraint('model_alias_version_fk', ['model_id', 'version'], 'model_version', [
          'model_id',
          'version',
        ])
        .execute();

      await withId(db.schema.createTable('alias_move'), dialect)
        .addColumn('model_id', 'bigint', (c) => c.notNull().references('registered_model.id'))
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'integer')
        .addColumn('previous_version', 'integer')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('moved_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alias_move_idx').on('alias_move').columns(['model_id', 'alias', 'id']).execute();
    },
  };
}

/** Every migration by name; names sort into the order they run. */
export function loomMigrations(dialect: DialectKind): Record<string, Migration> {
  return {
    '0001_metadata': metadataMigration(dialect),
    '0002_registry': registryMigration(dialect),
  };
}

const MIGRATION_TABLE = 'loom_migration';
const MIGRATION_LOCK_TABLE = 'loom_migration_lock';

/**
 * Brings the database up to the newest migration. Safe when several processes open the
 * same database at once: on SQLite the whole run is one `BEGIN IMMEDIATE` transaction
 * (others wait on the busy timeout, then find nothing left to do); on PostgreSQL it holds
 * an advisory lock keyed by the schema, so tests in different schemas do not wait on each other.
 */
export async function migrateToLatest(db: LoomKysely, dialect: DialectKind, schema = 'public'): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => loomMigrations(dialect) };
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

async function runMigrator(migrator: Migrator): Promise<void> {
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'setup';
    const message = error instanceof Error ? error.message : String(error);
    throw new LoomError('INTERNAL', `database migration ${failed} failed: ${message}`, {
      fix: 'check that the database is reachable and writable, and that no older Loom version altered it',
    });
  }
}
