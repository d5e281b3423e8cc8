/**
 * Run search and the batched loading of runs' params, tags and latest metrics. Pages
 * use an offset token (as MLflow does), because ORDER BY may sort on any metric or param.
 */
import { LoomError } from '../core/errors.js';
import type { Selectable } from 'kysely';
import type { DialectKind } from '../core/sql-dialect.js';
import type { TrackingKysely, TrackingRunTable } from './tracking-tables.js';
import { chunks, encodePageToken, idAfterToken, IN_LIST_CHUNK } from '../metadata/query-helpers.js';
import type { Page } from '../metadata/types.js';
import { parseFilter, parseOrderBy } from './filter.js';
import { runInputsAndOutputs } from './run-io.js';
import { runFilterConditions, runOrderExpression } from './search-query.js';
import { experimentIdNumber, toMetric, toRunInfo } from './tracking-rows.js';
import type { Run, RunData, SearchRunsRequest, ViewType } from './types.js';

/** MLflow's limit on runs per search page. */
export const MAX_SEARCH_RESULTS = 50_000;
export const DEFAULT_SEARCH_RESULTS = 1000;

export function checkedMaxResults(value: number | undefined, max = MAX_SEARCH_RESULTS, fallback = DEFAULT_SEARCH_RESULTS): number {
  const size = value ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new LoomError('INVALID_ARGUMENT', `max_results must be an integer from 1 to ${max}, got ${size}`, { field: 'max_results' });
  }
  return size;
}

/** The row offset a page token carries (0 for the first page). */
export function offsetOf(pageToken: string | undefined): number {
  return idAfterToken({ pageToken }) ?? 0;
}

export function stagesOf(viewType: ViewType | undefined): string[] {
  if (viewType === 'ALL') return ['active', 'deleted'];
  return viewType === 'DELETED_ONLY' ? ['deleted'] : ['active'];
}

export async function searchRuns(db: TrackingKysely, dialect: DialectKind, request: SearchRunsRequest): Promise<Page<Run>> {
  const size = checkedMaxResults(request.maxResults);
  const offset = offsetOf(request.pageToken);
  const clauses = parseFilter(request.filter);
  const orders = (request.orderBy ?? []).map((text) => parseOrderBy(text));
  const experimentIds = request.experimentIds.map((id) => experimentIdNumber(id)).filter((id): id is number => id !== undefined);
  if (experimentIds.length === 0) return { items: [] };

  let query = db
    .selectFrom('tracking_run')
    .selectAll()
    .where('experiment_id', 'in', experimentIds)
    .where('lifecycle_stage', 'in', stagesOf(request.viewType));
  if (clauses.length > 0) query = query.where((eb) => eb.and(runFilterConditions(eb, clauses, dialect)));
  for (const order of orders) {
    // Runs without the key sort last whichever the direction, as in MLflow.
    query = query
      .orderBy((eb) => eb.case().when(runOrderExpression(eb, order), 'is', null).then(1).else(0).end())
      .orderBy((eb) => runOrderExpression(eb, order), order.descending ? 'desc' : 'asc');
  }
  const rows = await query.orderBy('start_time', 'desc').orderBy('run_id').offset(offset).limit(size + 1).execute();
  const runs = await withData(db, rows.slice(0, size));
  const page: Page<Run> = { items: runs };
  if (rows.length > size) page.nextPageToken = encodePageToken(offset + size);
  return page;
}

/** Runs with their data, inputs and outputs, loading params, tags, latest metrics, datasets and models in one query each per chunk. */
export async function withData(db: TrackingKysely, rows: Selectable<TrackingRunTable>[]): Promise<Run[]> {
  const data = new Map<string, RunData>(rows.map((r) => [r.run_id, { metrics: [], params: {}, tags: {} }]));
  for (const ids of chunks([...data.keys()], IN_LIST_CHUNK)) {
    const [params, tags, metrics] = await Promise.all([
      db.selectFrom('tracking_param').selectAll().where('run_id', 'in', ids).orderBy('key').execute(),
      db.selectFrom('tracking_tag').selectAll().where('run_id', 'in', ids).orderBy('key').execute(),
      db.selectFrom('tracking_latest_metric').selectAll().where('run_id', 'in', ids).orderBy('key').execute(),
    ]);
    for (const p of params) data.get(p.run_id)!.params[p.key] = p.value;
    for (const t of tags) data.get(t.run_id)!.tags[t.key] = t.value;
    for (const m of metrics) data.get(m.run_id)!.metrics.push(toMetric(m));
  }
  const io = await runInputsAndOutputs(db, [...data.keys()]);
  return rows.map((row) => ({ info: toRunInfo(row), data: data.get(row.run_id)!, ...io.get(row.run_id)! }));
}
