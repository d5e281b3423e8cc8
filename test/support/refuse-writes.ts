/**
 * Makes a real Loom database refuse one kind of write, as a full disk, a revoked grant or a
 * read-only replica would, so tests see how a caller copes with a store that fails to write
 * (no mock: the database itself raises). The trigger is installed over a connection of its
 * own, so a platform already open on the database sees it at its next statement.
 */
import { sql, type RawBuilder } from 'kysely';
import { createPostgresKysely } from '../../src/platform/postgres-backend.js';
import { createSqliteKysely } from '../../src/platform/sqlite-backend.js';

/** The database refuses to record on an execution which retrainings it started (`properties.retrains`). */
export async function refuseRetrainRecords(database: { url: string; schema?: string }): Promise<void> {
  await withTrigger(database, {
    sqlite: sql`create trigger execution_refuse_retrains before update of properties on execution when new.properties like '%"retrains"%' begin select raise(abort, 'disk I/O error'); end`,
    postgres: [
      sql`create function refuse_retrains() returns trigger language plpgsql as $$ begin raise exception 'could not extend file: No space left on device'; end $$`,
      sql`create trigger execution_refuse_retrains before update on execution for each row when (new.properties::text like '%"retrains"%') execute function refuse_retrains()`,
    ],
  });
}

/**
 * The database silently skips recording the retrainings on an execution, as when another writer
 * moved the execution between the store's read and its write: the store answers with its own
 * LoomError (FAILED_PRECONDITION, "changed while it was being updated").
 */
export async function skipRetrainRecords(database: { url: string; schema?: string }): Promise<void> {
  await withTrigger(database, {
    sqlite: sql`create trigger execution_skip_retrains before update of properties on execution when new.properties like '%"retrains"%' begin select raise(ignore); end`,
    postgres: [
      sql`create function skip_retrains() returns trigger language plpgsql as $$ begin return null; end $$`,
      sql`create trigger execution_skip_retrains before update on execution for each row when (new.properties::text like '%"retrains"%') execute function skip_retrains()`,
    ],
  });
}

/** The database refuses a deployment without a canary (`canary_ref` null): taking a canary out fails. `allowCanaryClearing` lifts it. */
export async function refuseCanaryClearing(database: { url: string; schema?: string }): Promise<void> {
  await withTrigger(database, {
    sqlite: sql`create trigger deployment_refuse_clearing before insert on deployment when new.canary_ref is null begin select raise(abort, 'disk I/O error'); end`,
    postgres: [
      sql`create function refuse_clearing() returns trigger language plpgsql as $$ begin raise exception 'could not extend file: No space left on device'; end $$`,
      sql`create trigger deployment_refuse_clearing before insert on deployment for each row when (new.canary_ref is null) execute function refuse_clearing()`,
    ],
  });
}

export async function allowCanaryClearing(database: { url: string; schema?: string }): Promise<void> {
  await withTrigger(database, { sqlite: sql`drop trigger deployment_refuse_clearing`, postgres: [sql`drop trigger deployment_refuse_clearing on deployment`] });
}

/**
 * The database refuses to record a canary decision as complete (its output and COMPLETE state are
 * one transaction): the step fails after its work, a promotion's alias move, was done. `allowDecisionRecords` lifts it.
 */
export async function refuseDecisionRecords(database: { url: string; schema?: string }): Promise<void> {
  await withTrigger(database, {
    sqlite: sql`create trigger execution_refuse_decision before update of state on execution when new.type_name = 'canary-decision' and new.state = 'COMPLETE' begin select raise(abort, 'disk I/O error'); end`,
    postgres: [
      sql`create function refuse_decision() returns trigger language plpgsql as $$ begin raise exception 'could not extend file: No space left on device'; end $$`,
      sql`create trigger execution_refuse_decision before update on execution for each row when (new.type_name = 'canary-decision' and new.state = 'COMPLETE') execute function refuse_decision()`,
    ],
  });
}

export async function allowDecisionRecords(database: { url: string; schema?: string }): Promise<void> {
  await withTrigger(database, { sqlite: sql`drop trigger execution_refuse_decision`, postgres: [sql`drop trigger execution_refuse_decision on execution`] });
}

/** Installs a trigger over a connection of its own, in the statement(s) of the database's dialect. */
async function withTrigger(database: { url: string; schema?: string }, statements: { sqlite: RawBuilder<unknown>; postgres: RawBuilder<unknown>[] }): Promise<void> {
  const sqlite = database.url.startsWith('sqlite:');
  const db = sqlite ? createSqliteKysely(database.url.slice('sqlite:'.length)) : await createPostgresKysely(database.url, database.schema);
  try {
    for (const statement of sqlite ? [statements.sqlite] : statements.postgres) await statement.execute(db);
  } finally {
    await db.destroy();
  }
}
