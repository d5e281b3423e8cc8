/**
 * Makes a real Loom database refuse one kind of write, as a full disk, a revoked grant or a
 * read-only replica would, so tests see how a caller copes with a store that fails to write
 * (no mock: the database itself raises). The trigger is installed over a connection of its
 * own, so a platform already open on the database sees it at its next statement.
 */
import { sql } from 'kysely';
import { createPostgresKysely } from '../../src/platform/postgres-backend.js';
import { createSqliteKysely } from '../../src/platform/sqlite-backend.js';

/** The database refuses to record on an execution which retrainings it started (`properties.retrains`). */
export async function refuseRetrainRecords(database: { url: string; schema?: string }): Promise<void> {
  const sqlite = database.url.startsWith('sqlite:');
  const db = sqlite ? createSqliteKysely(database.url.slice('sqlite:'.length)) : await createPostgresKysely(database.url, database.schema);
  try {
    if (sqlite) {
      await sql`create trigger execution_refuse_retrains before update of properties on execution when new.properties like '%"retrains"%' begin select raise(abort, 'disk I/O error'); end`.execute(db);
    } else {
      await sql`create function refuse_retrains() returns trigger language plpgsql as $$ begin raise exception 'could not extend file: No space left on device'; end $$`.execute(db);
      await sql`create trigger execution_refuse_retrains before update on execution for each row when (new.properties::text like '%"retrains"%') execute function refuse_retrains()`.execute(db);
    }
  } finally {
    await db.destroy();
  }
}
