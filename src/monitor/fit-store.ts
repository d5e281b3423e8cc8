/**
 * The kept fits of served versions (the PCA of multivariate drift, CBPE's calibration), so a
 * new process (each `loom monitor` call, the alert evaluation, a restarted server) loads the
 * fit its version's first window made instead of fitting again, as NannyML fits once on the
 * reference and calculates per chunk. One interface, one Kysely implementation on both
 * backends (SQLite embedded, PostgreSQL server), one contract suite (`fit-store.contract.ts`).
 *
 * The store holds opaque JSON text; `VersionFits` encodes, versions and validates it
 * (`fit-store-formats.ts`). Per kind and model it keeps the `VERSIONS_KEPT` most recently used
 * identities, deleting the others on write, so the table stays as small as the memory cache.
 * A write is a use, and so is a read (or a `touch`, for a fit served from a process's memory):
 * a version read every window outlives newer ones written once. A read records its use only
 * when the stored one is older than `FIT_USE_TOUCH_MS`, so a window's read is not a write.
 * A use is recorded at this process's time but never later than the database's clock: a process
 * whose clock runs ahead would otherwise store uses in the future, which outrank every use the
 * processes with correct clocks record until their clocks catch up (and evict what they serve).
 *
 * Usage: `await store.write({ kind: 'drift', model: 'flights', identity, name: 'reconstruction' }, json)`
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { dialectOf } from '../core/sql-dialect.js';
import type { MonitorFitTables } from './fit-store-tables.js';
import { VERSIONS_KEPT } from './version-fits.js';

/**
 * How stale a fit's recorded use may be before a read records it again: eviction only needs
 * the order of uses between writes of newer versions, which are hours or days apart.
 */
export const FIT_USE_TOUCH_MS = 10 * 60_000;

/** Names one fit: of `kind`, for `model`'s version named by `identity`, called `name` within it. */
export interface FitKey {
  kind: string;
  model: string;
  identity: string;
  name: string;
}

/** A stored fit as the store holds it: the payload is validated by its reader. */
export interface StoredFit {
  payload: string;
  /** Epoch ms of the write. */
  createdAt: number;
}

/** Served versions' fits, kept across processes. */
export interface FitStore {
  /** The fit's stored payload, its use recorded at `now` (when stale, and when the database takes it); undefined when none is stored. */
  read(key: FitKey, now?: number): Promise<StoredFit | undefined>;
  /**
   * Stores the fit's payload (replacing one stored under the same key), then deletes the fits
   * of its kind and model but those of its identity and the most recently used others,
   * `VERSIONS_KEPT` in all.
   */
  write(key: FitKey, payload: string, createdAt?: number): Promise<void>;
  /** Records a use of the fit at `now` (never moving it back); nothing when it is not stored. */
  touch(key: FitKey, now?: number): Promise<void>;
}

/** The fit store on the Loom database (`monitor_fit`), SQLite or PostgreSQL alike. */
export class KyselyFitStore implements FitStore {
  constructor(
    private readonly db: Kysely<MonitorFitTables>,
    private readonly versionsKept = VERSIONS_KEPT,
  ) {}

  async read(key: FitKey, now = Date.now()): Promise<StoredFit | undefined> {
    const row = await this.db
      .selectFrom('monitor_fit')
      .select(['payload', 'created_at', 'used_at', sql<number | string>`${this.databaseClock()}`.as('database_now')])
      .where('kind', '=', key.kind)
      .where('model_name', '=', key.model)
      .where('identity', '=', key.identity)
      .where('name', '=', key.name)
      .executeTakeFirst();
    if (!row) return undefined;
    // PostgreSQL returns bigint columns as strings. A use that cannot be recorded (a full disk, a lock
    // held past SQLite's busy timeout) leaves the fit as readable: the use only orders eviction, and
    // failing the read would refit what is stored. The next read or write records it again.
    if (Number(row.used_at) < Math.min(now, Number(row.database_now)) - FIT_USE_TOUCH_MS) await this.touch(key, now).catch(() => undefined);
    return { payload: row.payload, createdAt: Number(row.created_at) };
  }

  async touch(key: FitKey, now = Date.now()): Promise<void> {
    await this.locked(key, (tx) =>
      tx
        .updateTable('monitor_fit')
        .set({ used_at: this.useTime(now) })
        .where('kind', '=', key.kind)
        .where('model_name', '=', key.model)
        .where('identity', '=', key.identity)
        .where('name', '=', key.name)
        .where('used_at', '<', this.useTime(now))
        .execute(),
    );
  }

  async write(key: FitKey, payload: string, createdAt = Date.now()): Promise<void> {
    await this.locked(key, async (tx) => {
      const usedAt = this.useTime(createdAt);
      await tx
        .insertInto('monitor_fit')
        .values({ kind: key.kind, model_name: key.model, identity: key.identity, name: key.name, payload, created_at: createdAt, used_at: usedAt })
        .onConflict((c) => c.columns(['kind', 'model_name', 'identity', 'name']).doUpdateSet({ payload, created_at: createdAt, used_at: usedAt }))
        .execute();
      // An identity is as recent as its most recently used fit; ties go by identity, so every process
      // drops the same ones. The identity just written stays whatever the clocks say: it is the one in use.
      const identities = await tx
        .selectFrom('monitor_fit')
        .select(['identity', sql<number>`max(used_at)`.as('newest')])
        .where('kind', '=', key.kind)
        .where('model_name', '=', key.model)
        .groupBy('identity')
        .orderBy('newest', 'desc')
        .orderBy('identity')
        .execute();
      const older = identities
        .filter((r) => r.identity !== key.identity)
        .slice(this.versionsKept - 1)
        .map((r) => r.identity);
      if (older.length > 0) await tx.deleteFrom('monitor_fit').where('kind', '=', key.kind).where('model_name', '=', key.model).where('identity', 'in', older).execute();
    });
  }

  /**
   * The database's clock, epoch ms, as SQL: one clock for every process that records uses.
   * Cut to the millisecond as `Date.now()` is: rounded, it ran up to half a millisecond ahead of
   * this process, so a use recorded by the database's clock could outrank one this process
   * recorded just after it (the contract's clock test failed on PostgreSQL that way).
   */
  private databaseClock() {
    return dialectOf(this.db) === 'postgres' ? sql`floor(extract(epoch from statement_timestamp()) * 1000)::bigint` : sql`cast((julianday('now') - 2440587.5) * 86400000.0 as integer)`;
  }

  /** A use at this process's `now`, as SQL: no later than the database's clock (a clock running ahead is held back to it). */
  private useTime(now: number) {
    return dialectOf(this.db) === 'postgres' ? sql<number>`least(${now}::bigint, ${this.databaseClock()})` : sql<number>`min(${now}, ${this.databaseClock()})`;
  }

  /**
   * Runs `body` in a transaction in which writers and touchers of one kind and model queue
   * (SQLite's BEGIN IMMEDIATE does so already): on PostgreSQL two writers that each delete an
   * identity the other upserts deadlock, and each, not seeing the other's new identity (or a
   * touch made between its ranking and its delete), could keep other than the most recent.
   */
  private async locked(key: FitKey, body: (tx: Transaction<MonitorFitTables>) => Promise<unknown>): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (dialectOf(this.db) === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${'loom.monitor_fit.'} || current_schema() || ${JSON.stringify([key.kind, key.model])}))`.execute(tx);
      await body(tx);
    });
  }
}
