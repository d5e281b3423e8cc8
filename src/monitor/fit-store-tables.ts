/** The kept fits' table and migration; the platform runs it with every store's (`platform/migrate.ts`). */
import { sql, type Generated, type Kysely } from 'kysely';
import type { StoreMigrations } from '../core/sql-dialect.js';
import { withId } from '../core/sql-dialect.js';

/** One fit of one served version (`fit-store.ts`), unique by kind, model, identity and name. */
export interface MonitorFitTable {
  id: Generated<number>;
  /** The kind of fit: 'drift' or 'quality'. */
  kind: string;
  model_name: string;
  /** What the fit was made from (version, artifact ids, paths), as `VersionFits.scope` names it. */
  identity: string;
  /** The fit within the version: 'reconstruction', 'cbpe'. */
  name: string;
  /** The fit as JSON text, with its format number (`fit-store-formats.ts`). */
  payload: string;
  created_at: number;
  /** Epoch ms of the fit's last use (its write, or a read `FIT_USE_TOUCH_MS` after the previous use): what eviction orders by. */
  used_at: number;
}

/** The fit store's tables, for `Kysely<MonitorFitTables>`. */
export interface MonitorFitTables {
  monitor_fit: MonitorFitTable;
}

/** The fit store's migration (run by the platform with every store's, in name order). */
export const monitorFitMigrations: StoreMigrations = (dialect) => ({
  '0013_monitor_fit': {
    async up(db: Kysely<unknown>) {
      await withId(db.schema.createTable('monitor_fit'), dialect)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('model_name', 'text', (c) => c.notNull())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // Unique, so two processes writing one fit at once upsert one row.
      await db.schema.createIndex('monitor_fit_key_idx').on('monitor_fit').columns(['kind', 'model_name', 'identity', 'name']).unique().execute();
    },
  },
  // Eviction goes by last use, not write time: a long-served version read every window stays.
  '0014_monitor_fit_used_at': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('monitor_fit').addColumn('used_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await sql`update monitor_fit set used_at = created_at`.execute(db);
    },
  },
});
