/**
 * Experiment search: `name = 'x'`, `name LIKE 'flights%'`, `tags.team = 'ml'`,
 * `creation_time > 1700000000000`, ordered by name, experiment_id, creation_time or
 * last_update_time. Same parser as run search; a bare key is an attribute.
 */
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { LoomError } from '../core/errors.js';
import type { DialectKind } from '../core/sql-dialect.js';
import type { TrackingKysely, TrackingTables } from './tracking-tables.js';
import { chunks, encodePageToken, IN_LIST_CHUNK } from '../metadata/query-helpers.js';
import type { Page } from '../metadata/types.js';
import { parseFilter, parseOrderBy, type Comparator, type FilterClause } from './filter.js';
import { compareClause } from './search-query.js';
import { checkedMaxResults, offsetOf, stagesOf } from './search-runs.js';
import { toExperiment } from './tracking-rows.js';
import type { Experiment, SearchExperimentsRequest } from './types.js';

type ExperimentEb = ExpressionBuilder<TrackingTables, 'tracking_experiment'>;
type ExperimentColumn = 'id' | 'name' | 'creation_time' | 'last_update_time';
const ATTRIBUTES: Record<string, { column: ExperimentColumn; numeric: boolean }> = {
  name: { column: 'name', numeric: false },
  experiment_id: { column: 'id', numeric: true },
  creation_time: { column: 'creation_time', numeric: true },
  last_update_time: { column: 'last_update_time', numeric: true },
};

function invalid(message: string, field: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', message, {
    field,
    fix: `filter experiments on ${Object.keys(ATTRIBUTES).join(', ')} or tags.<key>, e.g. name LIKE 'flights%'`,
  });
}

function condition(eb: ExperimentEb, clause: FilterClause, dialect: DialectKind): Expression<SqlBool> {
  if (clause.kind === 'tag') {
    if (typeof clause.value !== 'string') throw invalid(`tags.${clause.name} compares with a quoted string`, 'filter');
    const value = clause.value;
    return eb.exists(
      eb
        .selectFrom('tracking_experiment_tag as et')
        .select('et.key')
        .whereRef('et.experiment_id', '=', 'tracking_experiment.id')
        .where('et.key', '=', clause.name)
        .where((inner) => textCompare(inner.ref('et.value'), clause.comparator, value, dialect, inner as unknown as ExperimentEb)),
    );
  }
  const attribute = clause.kind === 'attribute' ? ATTRIBUTES[clause.name] : undefined;
  if (!attribute) throw invalid(`experiments cannot be filtered on ${clause.kind}s.${clause.name}`, 'filter');
  const left = eb.ref(`tracking_experiment.${attribute.column}`);
  if (attribute.numeric) {
    if (typeof clause.value !== 'number' || !['=', '!=', '>', '>=', '<', '<='].includes(clause.comparator)) {
      throw invalid(`${clause.name} compares with a number using = != > >= < <=`, 'filter');
    }
    return eb(left, clause.comparator as '=', clause.value);
  }
  if (typeof clause.value !== 'string') throw invalid(`${clause.name} compares with a quoted string`, 'filter');
  return textCompare(left, clause.comparator, clause.value, dialect, eb);
}

const TEXT_COMPARATORS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];

function textCompare(left: Expression<unknown>, comparator: Comparator, value: string, dialect: DialectKind, eb: ExperimentEb): Expression<SqlBool> {
  if (!TEXT_COMPARATORS.includes(comparator)) throw invalid(`text cannot be compared with ${comparator}; use =, !=, LIKE or ILIKE`, 'filter');
  return compareClause(eb, left, { comparator, value }, dialect);
}

export async function searchExperiments(db: TrackingKysely, dialect: DialectKind, request: SearchExperimentsRequest): Promise<Page<Experiment>> {
  const size = checkedMaxResults(request.maxResults, 50_000, 1000);
  const offset = offsetOf(request.pageToken);
  const clauses = parseFilter(request.filter, { bareKind: 'attribute' });
  let query = db.selectFrom('tracking_experiment').selectAll().where('lifecycle_stage', 'in', stagesOf(request.viewType));
  if (clauses.length > 0) query = query.where((eb) => eb.and(clauses.map((c) => condition(eb, c, dialect))));
  for (const text of request.orderBy ?? []) {
    const order = parseOrderBy(text, { bareKind: 'attribute' });
    const attribute = order.kind === 'attribute' ? ATTRIBUTES[order.name] : undefined;
    if (!attribute) throw invalid(`experiments cannot be ordered by ${order.name}`, 'order_by');
    query = query.orderBy(attribute.column, order.descending ? 'desc' : 'asc');
  }
  const rows = await query.orderBy('creation_time', 'desc').orderBy('id').offset(offset).limit(size + 1).execute();
  const items = await experimentsWithTags(db, rows.slice(0, size));
  const page: Page<Experiment> = { items };
  if (rows.length > size) page.nextPageToken = encodePageToken(offset + size);
  return page;
}

export async function experimentsWithTags(
  db: TrackingKysely,
  rows: Parameters<typeof toExperiment>[0][],
): Promise<Experiment[]> {
  const tags = new Map<number, Record<string, string>>(rows.map((r) => [r.id, {}]));
  for (const ids of chunks([...tags.keys()], IN_LIST_CHUNK)) {
    const found = await db.selectFrom('tracking_experiment_tag').selectAll().where('experiment_id', 'in', ids).orderBy('key').execute();
    for (const t of found) tags.get(Number(t.experiment_id))![t.key] = t.value;
  }
  return rows.map((row) => toExperiment(row, tags.get(row.id)!));
}
