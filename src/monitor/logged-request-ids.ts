/**
 * Which request ids a model's prediction log holds: the feedback endpoint's check for
 * labels of predictions Loom never logged. The Parquet log is read through the log's one
 * reader; the PostgreSQL table is asked directly by id (an index on request_id, made by the
 * label store's migration), not copied out whole as a window read does.
 *
 * Usage: `const known = await loggedRequestIds({ kind: 'parquet', dir }, 'flights', ids)`
 */
import pg from 'pg';
import { LoomError } from '../core/errors.js';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { openPredictionLog, type PredictionLogLocation } from './prediction-log-reader.js';

/** Ids per query: long lists stay cheap to parse. */
const CHUNK = 1000;

export async function loggedRequestIds(location: PredictionLogLocation, model: string, requestIds: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(requestIds)];
  if (unique.length === 0) return new Set();
  return location.kind === 'parquet' ? inParquet(location, model, unique) : inPostgres(location, model, unique);
}

async function inParquet(location: PredictionLogLocation, model: string, ids: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  await withDuckDB(async (db) => {
    const log = await openPredictionLog(db, location, { model });
    try {
      for (let i = 0; i < ids.length; i += CHUNK) {
        const list = ids.slice(i, i + CHUNK).map(sqlString).join(', ');
        for (const row of await queryRows(db, `SELECT DISTINCT request_id FROM (${log.relation}) WHERE request_id IN (${list})`)) found.add(String(row.request_id));
      }
    } finally {
      await log.close();
    }
  });
  return found;
}

async function inPostgres(location: Extract<PredictionLogLocation, { kind: 'postgres' }>, model: string, ids: string[]): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: location.url, options: `-c search_path=${location.schema ?? 'public'}` });
  await client.connect().catch((error: unknown) => {
    throw new LoomError('UNAVAILABLE', `cannot connect to the PostgreSQL prediction log: ${error instanceof Error ? error.message : String(error)}`, {
      fix: 'check that the database server is running and LOOM_DATABASE_URL is right',
    });
  });
  try {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const result = await client.query<{ request_id: string }>('SELECT DISTINCT request_id FROM prediction_log WHERE model_name = $1 AND request_id = ANY($2::text[])', [model, ids.slice(i, i + CHUNK)]);
      for (const row of result.rows) found.add(row.request_id);
    }
    return found;
  } finally {
    await client.end().catch(() => {});
  }
}
