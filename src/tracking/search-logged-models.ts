/**
 * Logged-model search: `name = 'x'`, `name LIKE 'flights%'`, `status = 'READY'`,
 * `source_run_id = '...'`, `model_type = 'classifier'`, `creation_timestamp > 1700000000000`,
 * `tags.k = 'v'`, `params.k = 'v'`, joined with AND; ordered by the attributes, newest first
 * by default. Same parser as run search; a bare key is an attribute. Metrics of logged
 * models are not recorded, so a metric clause is INVALID_ARGUMENT rather than a silent miss.
 */
import type { Expression, ExpressionBuilder, Selectable, SqlBool } from 'kysely';
import { LoomError } from '../core/errors.js';
import type { DialectKind } from '../core/sql-dialect.js';
import { encodePageToken } from '../metadata/query-helpers.js';
import type { Page } from '../metadata/types.js';
import { parseFilter, type Comparator, type FilterClause } from './filter.js';
import type { SearchLoggedModelsRequest } from './logged-model-types.js';
import { compareClause } from './search-query.js';
import { checkedMaxResults, offsetOf, stagesOf } from './search-runs.js';
import type { TrackingKysely, TrackingLoggedModelTable, TrackingTables } from './tracking-tables.js';
import { experimentIdNumber } from './tracking-rows.js';

type ModelEb = ExpressionBuilder<TrackingTables, 'tracking_logged_model'>;
type ModelColumn = 'model_id' | 'name' | 'status' | 'source_run_id' | 'model_type' | 'creation_time' | 'last_updated_time';
const ATTRIBUTES: Record<string, { column: ModelColumn; numeric: boolean }> = {
  model_id: { column: 'model_id', numeric: false },
  name: { column: 'name', numeric: false },
  status: { column: 'status', numeric: false },
  source_run_id: { column: 'source_run_id', numeric: false },
  model_type: { column: 'model_type', numeric: false },
  creation_timestamp: { column: 'creation_time', numeric: true },
  creation_time: { column: 'creation_time', numeric: true },
  last_updated_timestamp: { column: 'last_updated_time', numeric: true },
};

function invalid(message: string, field: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', message, {
    field,
    fix: `filter logged models on ${Object.keys(ATTRIBUTES).join(', ')}, tags.<key> or params.<key>, e.g. name = 'model'`,
  });
}

const TEXT_COMPARATORS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];

function textCompare(eb: ModelEb, left: Expression<unknown>, clause: FilterClause, dialect: DialectKind): Expression<SqlBool> {
  const { comparator, value } = clause;
  if (comparator === 'IN' || comparator === 'NOT IN') return compareClause(eb, left, clause, dialect);
  if (typeof value !== 'string') throw invalid(`${clause.name} compares with a quoted string`, 'filter');
  if (!TEXT_COMPARATORS.includes(comparator)) throw invalid(`text cannot be compared with ${comparator}; use =, !=, LIKE, ILIKE or IN`, 'filter');
  return compareClause(eb, left, clause, dialect);
}

/** MLflow's client filters on `status = 'FAILED'`; Loom stores the proto's UPLOAD_FAILED. */
function storedStatus(clause: FilterClause): FilterClause {
  const map = (v: string) => (v.toUpperCase() === 'FAILED' ? 'UPLOAD_FAILED' : v.toUpperCase());
  if (typeof clause.value === 'string') return { ...clause, value: map(clause.value) };
  return Array.isArray(clause.value) ? { ...clause, value: clause.value.map(map) } : clause;
}

function condition(eb: ModelEb, clause: FilterClause, dialect: DialectKind): Expression<SqlBool> {
  if (clause.kind === 'tag' || clause.kind === 'param') {
    const table = clause.kind === 'tag' ? 'tracking_logged_model_tag' : 'tracking_logged_model_param';
    return eb.exists(
      eb
        .selectFrom(`${table} as kv`)
        .select('kv.key')
        .whereRef('kv.model_id', '=', 'tracking_logged_model.model_id')
        .where('kv.key', '=', clause.name)
        .where((inner) => textCompare(inner as unknown as ModelEb, inner.ref('kv.value'), clause, dialect)),
    );
  }
  const attribute = clause.kind === 'attribute' ? ATTRIBUTES[clause.name] : undefined;
  if (!attribute) throw invalid(`logged models cannot be filtered on ${clause.kind}s.${clause.name}`, 'filter');
  const left = eb.ref(`tracking_logged_model.${attribute.column}`);
  if (!attribute.numeric) return textCompare(eb, left, attribute.column === 'status' ? storedStatus(clause) : clause, dialect);
  if (typeof clause.value !== 'number' || !['=', '!=', '>', '>=', '<', '<='].includes(clause.comparator)) {
    throw invalid(`${clause.name} compares with a number using = != > >= < <=`, 'filter');
  }
  return eb(left, clause.comparator as '=', clause.value);
}

/** One page of logged-model rows (the caller adds tags and params). */
export async function searchLoggedModels(db: TrackingKysely, dialect: DialectKind, request: SearchLoggedModelsRequest): Promise<Page<Selectable<TrackingLoggedModelTable>>> {
  const size = checkedMaxResults(request.maxResults, 50_000, 100);
  const offset = offsetOf(request.pageToken);
  const clauses = parseFilter(request.filter, { bareKind: 'attribute' });
  const experimentIds = request.experimentIds.map((id) => experimentIdNumber(id)).filter((id): id is number => id !== undefined);
  if (experimentIds.length === 0) return { items: [] };
  let query = db.selectFrom('tracking_logged_model').selectAll().where('experiment_id', 'in', experimentIds).where('lifecycle_stage', 'in', stagesOf(request.viewType));
  if (clauses.length > 0) query = query.where((eb) => eb.and(clauses.map((c) => condition(eb, c, dialect))));
  for (const order of request.orderBy ?? []) {
    const attribute = ATTRIBUTES[order.field.replace(/^attributes?\./, '')];
    if (!attribute) throw invalid(`logged models cannot be ordered by ${order.field}`, 'order_by');
    query = query.orderBy(attribute.column, order.ascending ? 'asc' : 'desc');
  }
  const rows = await query.orderBy('creation_time', 'desc').orderBy('model_id').offset(offset).limit(size + 1).execute();
  const page: Page<Selectable<TrackingLoggedModelTable>> = { items: rows.slice(0, size) };
  if (rows.length > size) page.nextPageToken = encodePageToken(offset + size);
  return page;
}
