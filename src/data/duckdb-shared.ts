/**
 * One DuckDB engine per process (per settings) for work a long-lived process repeats: a
 * server's monitoring passes run on every Prometheus scrape and every alert check, for every
 * served model. `withDuckDB` opens a new engine per call, and each one pays its start again
 * (~10 ms) and plans its statements slower (~7 ms more in a later monitoring window of 1M rows,
 * BENCHMARKS.md); here each call gets a new connection to the engine kept for its settings. A connection is what a call's work sees of the engine: its temporary tables
 * and views are its own (DuckDB scopes them to the connection) and go when it closes.
 * An engine no call has used for `IDLE_MS` is closed, so an idle server holds no DuckDB memory.
 *
 * Usage: `await withSharedDuckDB(async (db) => analyse(db), options)`; the work must create
 * only TEMP objects and must not change the engine's settings (`SET` is engine-wide).
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckDBSettings, type DuckDBOptions } from './duckdb-settings.js';

/** How long an engine stays open with no call using it. */
export const IDLE_MS = 30_000;

interface SharedEngine {
  instance: Promise<DuckDBInstance>;
  users: number;
  idle?: NodeJS.Timeout;
}

const engines = new Map<string, SharedEngine>();

/** Runs `work` on a new connection to the process's engine for `options` (started by the first call). */
export async function withSharedDuckDB<T>(work: (db: DuckDBConnection) => Promise<T>, options: DuckDBOptions = {}): Promise<T> {
  const settings = duckDBSettings(options);
  const key = JSON.stringify(Object.entries(settings).sort());
  let engine = engines.get(key);
  if (!engine) {
    engine = { instance: DuckDBInstance.create(':memory:', settings), users: 0 };
    engines.set(key, engine);
  }
  engine.users++;
  clearTimeout(engine.idle);
  try {
    const connection = await engine.instance.then((instance) => instance.connect());
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  } finally {
    release(key, engine);
  }
}

/** Engines open now (for tests). */
export function sharedEngineCount(): number {
  return engines.size;
}

function release(key: string, engine: SharedEngine): void {
  engine.users--;
  if (engine.users > 0) return;
  // Closed only if still unused when the time comes; a failed start is not kept either (the next call tries again).
  const close = () => {
    if (engine.users > 0 || engines.get(key) !== engine) return;
    engines.delete(key);
    engine.instance.then((instance) => instance.closeSync(), () => {});
  };
  engine.instance.then(
    () => {
      // A call that came while the start settled holds the engine; its own release sets the timer.
      if (engine.users > 0) return;
      engine.idle = setTimeout(close, IDLE_MS);
      engine.idle.unref();
    },
    close,
  );
}
