/**
 * The audit log's table and migration. Triggers refuse UPDATE and DELETE (and TRUNCATE on
 * PostgreSQL), so no code path, Loom's or a stray script's, can change the log without
 * first dropping them; the hash chain catches whoever does.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectKind } from '../metadata/db-schema.js';
import { migrateStoreTables } from '../metadata/migrations.js';
import type { StoredEntry } from './chain.js';

export interface AuditTables {
  audit_log: StoredEntry;
}

export type AuditKysely = Kysely<AuditTables>;

function auditMigration(dialect: DialectKind): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('model', 'text')
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('before', 'text')
        .addColumn('after', 'text')
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_model_idx').on('audit_log').columns(['model', 'seq']).execute();
      await db.schema.createIndex('audit_log_at_idx').on('audit_log').columns(['at', 'seq']).execute();
      if (dialect === 'sqlite') {
        for (const op of ['update', 'delete']) {
          await sql
            .raw(`create trigger audit_log_no_${op} before ${op} on audit_log begin select raise(abort, 'the audit log is append-only'); end`)
            .execute(db);
        }
      } else {
        await sql`create function loom_audit_append_only() returns trigger language plpgsql as $$
          begin raise exception 'the audit log is append-only'; end $$`.execute(db);
        await sql`create trigger audit_log_no_change before update or delete on audit_log for each row execute function loom_audit_append_only()`.execute(db);
        await sql`create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function loom_audit_append_only()`.execute(db);
      }
    },
  };
}

/** Creates or updates the audit log's table (safe when several processes open at once). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any database that also holds other stores' tables
export function migrateAuditTables(db: Kysely<any>, dialect: DialectKind, schema?: string): Promise<void> {
  return migrateStoreTables(db, dialect, { migrations: { '0001_audit_log': auditMigration(dialect) }, table: 'loom_audit_migration', lockTable: 'loom_audit_migration_lock', schema });
}
