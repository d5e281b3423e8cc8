/**
 * The audit log's table and migration. Triggers refuse UPDATE and DELETE (and TRUNCATE on
 * PostgreSQL), so no code path, Loom's or a stray script's, can change the log without
 * first dropping them; the hash chain catches whoever does.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectKind, StoreMigrations } from '../core/sql-dialect.js';
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

/** The audit log's migrations (run by the platform with every store's, in name order). */
export const auditMigrations: StoreMigrations = (dialect) => ({ '0007_audit_log': auditMigration(dialect) });
