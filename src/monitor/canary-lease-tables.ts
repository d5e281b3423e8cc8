/** The canary lease's table and migration; the platform runs it with every store's (`platform/migrate.ts`). */
import type { Kysely } from 'kysely';
import type { StoreMigrations } from '../core/sql-dialect.js';

/** Who may decide a model's canary now: at most one row per model (the key), held until `expires_at`. */
export interface CanaryLeaseTable {
  model_name: string;
  /** Random per claim: only the claim that holds the lease renews or releases it. */
  token: string;
  /** The holding process as JSON (`ProcessOwner`: pid, host, start token). */
  holder: string;
  acquired_at: number;
  expires_at: number;
}

/** The lease store's tables, for `Kysely<CanaryLeaseTables>`. */
export interface CanaryLeaseTables {
  canary_lease: CanaryLeaseTable;
}

export const canaryLeaseMigrations: StoreMigrations = () => ({
  '0015_canary_lease': {
    async up(db: Kysely<unknown>) {
      // The model name is the key, so two claims of one model meet on it: one inserts, the other conflicts.
      await db.schema
        .createTable('canary_lease')
        .addColumn('model_name', 'text', (c) => c.primaryKey())
        .addColumn('token', 'text', (c) => c.notNull())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('acquired_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
});
