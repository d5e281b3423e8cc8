/**
 * How a shadow compares with the version whose answer was served, over the same requests,
 * from the prediction log. The server logs the shadow's answer under the served request's id
 * (role 'shadow'), so each shadow row is paired with a served row (role primary or canary)
 * of the same request and the same features logged at most `SHADOW_PAIR_TOLERANCE_MS` apart:
 * one to one, nearest in logged time first (a reused request id must not pair one row twice).
 * A shadow row with no such served row (its copy ran later than that) is not compared. The
 * tolerance bounds the work: a client reusing one id has only the rows around each of its
 * requests as candidates, not every other row of that id, so pairing stays linear in the rows
 * however often an id is reused. Per shadow version, served version and
 * role, and per hourly or daily window (UTC, by the served answer's time): the rows
 * compared, the requests they came in, and per output either the share of rows where both
 * predicted the same label (an output whose values are all whole numbers, text or booleans:
 * class labels) or the mean absolute difference
 * (an output with fractional values: scores), with both sides' latency per request.
 * Outputs with several values per row (per-class probabilities) are left out. Failed
 * requests are not compared (the reader leaves them out).
 *
 * Usage: `const shadow = await shadowResults(predictionLogLocation(config), { model: 'flights', window: 'daily' });`
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { openPredictionLog, type PredictionLogLocation } from '../monitor/prediction-log-reader.js';
import { windowKey } from '../monitor/windows.js';
import { groupSeries, numberOrNull } from './series.js';
import type { TrafficQuery } from './deployment-traffic.js';
import type { ShadowComparison, ShadowResults } from './views/deployment-traffic.js';

// The answer's types live in views/ (no Node) so the dashboard shares them; re-exported for the server's users.
export type { ShadowComparison, ShadowOutput, ShadowResults } from './views/deployment-traffic.js';

/**
 * How far apart in logged time a shadow row and the served row it copies may be. The shadow runs
 * on the served answer's rows right after it is sent, in the same process, so its row follows
 * within its own latency; a minute leaves room for a shadow queued behind a burst.
 */
export const SHADOW_PAIR_TOLERANCE_MS = 60_000;

/**
 * Fills `__shadow_matches` (sid, pid, shadow version) from `__shadow_log`: each shadow row with
 * at most one served row of the same request and features within `SHADOW_PAIR_TOLERANCE_MS`
 * (found by time buckets of that width, the row's own and its neighbours, so the join is an
 * equi-join on id, features and bucket), and each served row with at most
 * one row of each shadow version, nearest in logged time first. A client that reuses a request
 * id sends several rows that could pair; greedy nearest-first keeps a copy with the answer it
 * copied. Each round takes the candidate pairs that are each other's nearest (by gap, then
 * ids, one total order, so the globally nearest pair always qualifies and every round makes
 * progress) and drops the candidates of rows now taken; the usual log (one served and one
 * shadow row per request and features) is done in one round.
 */
async function pairNearest(db: DuckDBConnection): Promise<void> {
  const tolerance = SHADOW_PAIR_TOLERANCE_MS;
  await db.run(`CREATE OR REPLACE TEMP TABLE __shadow_candidates AS
    SELECT s.id AS sid, p.id AS pid, s.model_version AS sv, abs(s.t - p.t) AS gap
    FROM (SELECT id, request_id, f, model_version, t, t // ${tolerance} + o AS bucket
          FROM (SELECT *, epoch_ms(logged_at) AS t FROM __shadow_log WHERE role = 'shadow'), (VALUES (-1), (0), (1)) AS near(o)) s
    JOIN (SELECT id, request_id, f, t, t // ${tolerance} AS bucket
          FROM (SELECT *, epoch_ms(logged_at) AS t FROM __shadow_log WHERE role IN ('primary', 'canary'))) p
      ON s.request_id = p.request_id AND s.f = p.f AND s.bucket = p.bucket
    WHERE abs(s.t - p.t) <= ${tolerance}`);
  await db.run('CREATE OR REPLACE TEMP TABLE __shadow_matches (sid BIGINT, pid BIGINT, sv BIGINT)');
  while (Number((await queryRows(db, 'SELECT count(*) AS n FROM __shadow_candidates'))[0]?.n ?? 0) > 0) {
    await db.run(`INSERT INTO __shadow_matches SELECT sid, pid, sv FROM (
        SELECT sid, pid, sv, row_number() OVER (PARTITION BY sid ORDER BY gap, sid, pid) AS by_shadow,
          row_number() OVER (PARTITION BY pid, sv ORDER BY gap, sid, pid) AS by_served
        FROM __shadow_candidates)
      WHERE by_shadow = 1 AND by_served = 1`);
    // Two deletes, each an equi-join DuckDB hashes: one EXISTS with an OR compares every candidate with every match.
    await db.run('DELETE FROM __shadow_candidates c WHERE EXISTS (SELECT 1 FROM __shadow_matches m WHERE m.sid = c.sid)');
    await db.run('DELETE FROM __shadow_candidates c WHERE EXISTS (SELECT 1 FROM __shadow_matches m WHERE m.pid = c.pid AND m.sv = c.sv)');
  }
}

export async function shadowResults(location: PredictionLogLocation, query: TrafficQuery): Promise<ShadowResults> {
  return withDuckDB(async (db) => {
    const log = await openPredictionLog(db, location, { model: query.model, from: query.from, to: query.to });
    try {
      await db.run(`CREATE OR REPLACE TEMP TABLE __shadow_log AS
        SELECT row_number() OVER () AS id, request_id, model_version, role, logged_at, latency_ms, to_json(outputs) AS outputs, f
        FROM (SELECT *, to_json(features)::VARCHAR AS f FROM (${log.relation}) WHERE role IN ('primary', 'canary', 'shadow'))`);
      await pairNearest(db);
      await db.run(`CREATE OR REPLACE TEMP TABLE __shadow_pairs AS
        SELECT s.model_version AS shadow_version, p.model_version AS served_version, p.role AS served_role, p.logged_at, p.request_id,
          s.outputs AS so, p.outputs AS po, s.latency_ms AS shadow_ms, p.latency_ms AS served_ms,
          row_number() OVER (PARTITION BY p.request_id, s.model_version, p.model_version, p.role) = 1 AS first
        FROM __shadow_matches m JOIN __shadow_log s ON s.id = m.sid JOIN __shadow_log p ON p.id = m.pid`);
      const outputs = (
        await queryRows(
          db,
          // An output only ever null (a field another version's files have) is not one this shadow answers.
          `SELECT name, bool_or(type = 'DOUBLE') AS fractional, bool_or(type IN ('ARRAY', 'OBJECT')) AS nested
           FROM (SELECT name, json_type(json_extract(so, '$."' || name || '"')) AS type FROM (SELECT so, unnest(json_keys(so)) AS name FROM __shadow_pairs))
           WHERE type <> 'NULL' GROUP BY name ORDER BY name`,
        )
      )
        .filter((r) => r.nested !== true)
        .map((r) => ({ name: String(r.name), kind: r.fractional === true ? ('score' as const) : ('label' as const) }));
      const measures = outputs.map(({ name, kind }, i) => {
        const [shadow, served] = [`(so ->> ${sqlString(name)})`, `(po ->> ${sqlString(name)})`];
        return kind === 'label'
          ? `avg(CASE WHEN ${shadow} IS NULL AND ${served} IS NULL THEN NULL WHEN ${shadow} IS NOT DISTINCT FROM ${served} THEN 1.0 ELSE 0.0 END) AS o${i}`
          : `avg(abs(TRY_CAST(${shadow} AS DOUBLE) - TRY_CAST(${served} AS DOUBLE))) AS o${i}`;
      });
      const ms = (column: string, q: number) => `quantile_cont(${column}, ${q}) FILTER (WHERE first)`;
      const rows = await queryRows(
        db,
        `SELECT shadow_version, served_version, served_role, ${windowKey({ kind: query.window })}::BIGINT AS start, count(*) AS rows, count(*) FILTER (WHERE first) AS requests,
           ${ms('shadow_ms', 0.5)} AS shadow_p50, ${ms('shadow_ms', 0.95)} AS shadow_p95, ${ms('served_ms', 0.5)} AS served_p50, ${ms('served_ms', 0.95)} AS served_p95
           ${measures.map((m) => `, ${m}`).join('')}
         FROM __shadow_pairs GROUP BY shadow_version, served_version, served_role, start ORDER BY shadow_version, served_version, served_role, start`,
      );
      const comparisons = groupSeries(
        rows,
        (r) => `${r.shadow_version}\u0000${r.served_version}\u0000${r.served_role}`,
        (r): ShadowComparison => ({
          shadowVersion: Number(r.shadow_version),
          servedVersion: Number(r.served_version),
          servedRole: String(r.served_role),
          starts: [],
          rows: [],
          requests: [],
          outputs: outputs.map((o) => ({ ...o, values: [] })),
          shadowP50: [],
          shadowP95: [],
          servedP50: [],
          servedP95: [],
        }),
        (c, r) => {
          c.starts.push(Number(r.start));
          c.rows.push(Number(r.rows));
          c.requests.push(Number(r.requests));
          c.outputs.forEach((o, i) => o.values.push(numberOrNull(r[`o${i}`])));
          c.shadowP50.push(Number(r.shadow_p50));
          c.shadowP95.push(Number(r.shadow_p95));
          c.servedP50.push(Number(r.served_p50));
          c.servedP95.push(Number(r.served_p95));
        },
      );
      return { model: query.model, window: query.window, comparisons, skipped: log.skipped };
    } finally {
      await db.run(`DROP TABLE IF EXISTS __shadow_pairs; DROP TABLE IF EXISTS __shadow_matches; DROP TABLE IF EXISTS __shadow_candidates; DROP TABLE IF EXISTS __shadow_log`).catch(() => undefined);
      await log.close();
    }
  });
}
