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

/**
 * Experiment tracking (MLflow's entities). Metric points are append-only history;
 * `tracking_latest_metric` keeps each key's latest point (highest step, then timestamp)
 * so searching and listing runs never scans the history. NaN is stored as 0 with
 * `is_nan = 1` because SQLite reads a NaN REAL back as NULL.
 */
function trackingMigration(dialect: DialectKind): Migration {
  return {
    async up(db: AnyDb) {
      await withId(db.schema.createTable('tracking_experiment'), dialect)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('artifact_location', 'text', (c) => c.notNull())
        .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addColumn('last_update_time', 'bigint', (c) => c.notNull())
        .execute();
      // MLflow clients start runs in experiment "0" when none is set.
      const now = Date.now();
      await db
        .insertInto('tracking_experiment' as never)
        .values({ id: 0, name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active', creation_time: now, last_update_time: now } as never)
        .execute();
      await db.schema
        .createTable('tracking_experiment_tag')
        .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('tracking_experiment.id'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tracking_experiment_tag_pk', ['experiment_id', 'key'])
        .execute();

      // Runs have MLflow's hex run_id and a small integer id that keys the metric history:
      // a 32-character key in every history row and index entry halves the insert rate.
      await withId(db.schema.createTable('tracking_run'), dialect)
        .addColumn('run_id', 'text', (c) => c.notNull().unique())
        .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('tracking_experiment.id'))
        .addColumn('run_name', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('start_time', 'bigint', (c) => c.notNull())
        .addColumn('end_time', 'bigint')
        .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
        .addColumn('artifact_uri', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tracking_run_experiment_idx').on('tracking_run').columns(['experiment_id', 'start_time']).execute();

      for (const table of ['tracking_param', 'tracking_tag']) {
        await db.schema
          .createTable(table)
          .addColumn('run_id', 'text', (c) => c.notNull().references('tracking_run.run_id'))
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['run_id', 'key'])
          .execute();
      }

      // No primary key or foreign key on the history: it is the hot insert path, and
      // logBatch checks the run once per batch. run_key is tracking_run.id.
      await db.schema
        .createTable('tracking_metric')
        .addColumn('run_key', 'bigint', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('is_nan', 'integer', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tracking_metric_history_idx').on('tracking_metric').columns(['run_key', 'key', 'step']).execute();

      await db.schema
        .createTable('tracking_latest_metric')
        .addColumn('run_id', 'text', (c) => c.notNull().references('tracking_run.run_id'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('is_nan', 'integer', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('tracking_latest_metric_pk', ['run_id', 'key'])
        .execute();
    },
  };
}

/**
 * Registry lifecycle: version lineage, archiving and update times; how each alias moved
 * (so rollbacks can be undone in order); per-model approval rules and the requests they need.
 * SQLite adds one column per ALTER statement, so each column is its own statement.
 */
function registryLifecycleMigration(dialect: DialectKind): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.alterTable('model_version').addColumn('lineage', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      await db.schema.alterTable('model_version').addColumn('archived_at', 'bigint').execute();
      await db.schema.alterTable('model_version').addColumn('updated_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await sql`update model_version set updated_at = created_at`.execute(db);
      await db.schema.alterTable('registered_model').addColumn('approval_aliases', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('alias_move').addColumn('kind', 'text', (c) => c.notNull().defaultTo('set')).execute();
      await sql`update alias_move set kind = 'delete' where version is null`.execute(db);

      await withId(db.schema.createTable('alias_request'), dialect)
        .addColumn('model_id', 'bigint', (c) => c.notNull().references('registered_model.id'))
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'bigint')
        .execute();
      await db.schema.createIndex('alias_request_model_idx').on('alias_request').columns(['model_id', 'id']).execute();
    },
  };
}

/**
 * Serving: `deployment` is an append-only history (the newest row per model is the live
 * one; `replaces_id` makes rollback one step back), and on PostgreSQL `prediction_log`
 * receives the online server's prediction log (the embedded default writes Parquet).
 */
function servingMigration(dialect: DialectKind): Migration {
  return {
    async up(db: AnyDb) {
      await withId(db.schema.createTable('deployment'), dialect)
        .addColumn('model_name', 'text', (c) => c.notNull())
        .addColumn('primary_ref', 'text', (c) => c.notNull())
        .addColumn('canary_ref', 'text')
        .addColumn('canary_weight', 'double precision', (c) => c.notNull())
        .addColumn('shadow_ref', 'text')
        .addColumn('split', 'text', (c) => c.notNull())
        .addColumn('max_batch_size', 'integer')
        .addColumn('max_batch_wait_us', 'integer')
        .addColumn('replaces_id', 'bigint')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deployment_model_idx').on('deployment').columns(['model_name', 'id']).execute();
      if (dialect === 'postgres') {
        await db.schema
          .createTable('prediction_log')
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('model_name', 'text', (c) => c.notNull())
          .addColumn('model_version', 'integer', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('protocol', 'text', (c) => c.notNull())
          .addColumn('features', 'jsonb', (c) => c.notNull())
          .addColumn('outputs', 'jsonb', (c) => c.notNull())
          .addColumn('latency_ms', 'double precision', (c) => c.notNull())
          .addColumn('logged_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('prediction_log_model_idx').on('prediction_log').columns(['model_name', 'logged_at']).execute();
      }
    },
  };
}

/** Every migration by name; names sort into the order they run. */
export function loomMigrations(dialect: DialectKind): Record<string, Migration> {
  return {
    '0001_metadata': metadataMigration(dialect),
    '0002_registry': registryMigration(dialect),
    '0003_registry_lifecycle': registryLifecycleMigration(dialect),
    '0004_tracking': trackingMigration(dialect),
    '0005_serving': servingMigration(dialect),
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
  await migrateStoreTables(db, dialect, { migrations: loomMigrations(dialect), table: MIGRATION_TABLE, lockTable: MIGRATION_LOCK_TABLE, schema });
}

/** A store's own migrations and the table that records which of them ran. */
export interface StoreMigrations {
  migrations: Record<string, Migration>;
  /** The table recording the migrations run; one per store, so stores migrate independently. */
  table: string;
  lockTable: string;
  /** The PostgreSQL schema the store lives in (default `public`). */
  schema?: string;
}

/**
 * Runs a store's pending migrations under the same locks as `migrateToLatest`, so a store
 * that owns its tables (the token store, the audit log) migrates safely beside the others.
 */
export async function migrateStoreTables(db: Kysely<any>, dialect: DialectKind, store: StoreMigrations): Promise<void> {
  const schema = store.schema ?? 'public';
  const provider: MigrationProvider = { getMigrations: async () => store.migrations };
  await db.connection().execute(async (conn) => {
    const migrator = new Migrator({
      db: conn,
      provider,
      migrationTableName: store.table,
      migrationLockTableName: store.lockTable,
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
