/**
 * Turns parsed filter and ORDER BY clauses (filter.ts) into Kysely expressions over
 * `tracking_run`: metric, param and tag clauses become correlated EXISTS subqueries on
 * the latest-metric, param and tag tables; attribute clauses compare the run's columns.
 * Every value is a bound parameter.
 */
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { LoomError } from '../core/errors.js';
import { likeToGlob, type DialectKind } from '../core/sql-dialect.js';
import type { TrackingTables } from './tracking-tables.js';
import type { Comparator, FilterClause, OrderClause } from './filter.js';

type RunEb = ExpressionBuilder<TrackingTables, 'tracking_run'>;
type RunColumn = 'run_id' | 'run_name' | 'status' | 'user_id' | 'artifact_uri' | 'lifecycle_stage' | 'start_time' | 'end_time';

/** Searchable run attributes and whether they compare as numbers. */
const RUN_ATTRIBUTES: Record<string, { column: RunColumn; numeric: boolean }> = {
  run_id: { column: 'run_id', numeric: false },
  run_name: { column: 'run_name', numeric: false },
  status: { column: 'status', numeric: false },
  user_id: { column: 'user_id', numeric: false },
  artifact_uri: { column: 'artifact_uri', numeric: false },
  lifecycle_stage: { column: 'lifecycle_stage', numeric: false },
  start_time: { column: 'start_time', numeric: true },
  created: { column: 'start_time', numeric: true },
  end_time: { column: 'end_time', numeric: true },
};

const NUMERIC_COMPARATORS: readonly Comparator[] = ['=', '!=', '>', '>=', '<', '<='];
const STRING_COMPARATORS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

function invalid(message: string, field = 'filter'): LoomError {
  return new LoomError('INVALID_ARGUMENT', message, {
    field,
    fix: `metrics compare with numbers (${NUMERIC_COMPARATORS.join(' ')}); params, tags and text attributes with quoted strings (${STRING_COMPARATORS.join(', ')}); attributes are ${Object.keys(RUN_ATTRIBUTES).join(', ')}`,
  });
}

function attributeOf(name: string, field: string): { column: RunColumn; numeric: boolean } {
  const attribute = RUN_ATTRIBUTES[name];
  if (!attribute) throw invalid(`unknown run attribute "${name}"`, field);
  return attribute;
}

/** Checks a clause's comparator and value against what its key compares as. */
function checkClause(clause: FilterClause, numeric: boolean): void {
  const label = `${clause.kind}s.${clause.name}`;
  if (numeric) {
    if (!NUMERIC_COMPARATORS.includes(clause.comparator)) throw invalid(`${label} is numeric and cannot use ${clause.comparator}`);
    if (typeof clause.value !== 'number') throw invalid(`${label} compares with a number, not ${JSON.stringify(clause.value)}`);
  } else {
    if (!STRING_COMPARATORS.includes(clause.comparator)) throw invalid(`${label} is text and cannot use ${clause.comparator}`);
    if (typeof clause.value === 'number') throw invalid(`${label} compares with a quoted string, not ${clause.value}`);
  }
}

/**
 * One comparison of `left` with a clause's value. SQLite's LIKE ignores case, so there a
 * case-sensitive LIKE becomes GLOB with the pattern translated; ILIKE lowers both sides.
 * The caller has checked the comparator and value (each search allows its own).
 */
export function compareClause<Table extends keyof TrackingTables>(
  eb: ExpressionBuilder<TrackingTables, Table>,
  left: Expression<unknown>,
  { comparator, value }: Pick<FilterClause, 'comparator' | 'value'>,
  dialect: DialectKind,
): Expression<SqlBool> {
  switch (comparator) {
    case 'IN':
    case 'NOT IN':
      return eb(left, comparator === 'IN' ? 'in' : 'not in', value as string[]);
    case 'LIKE':
      return dialect === 'sqlite' ? sql<SqlBool>`${left} glob ${likeToGlob(value as string)}` : eb(left, 'like', value as string);
    case 'ILIKE':
      return eb(eb.fn('lower', [left]), 'like', (value as string).toLowerCase());
    default:
      return eb(left, comparator, value as string | number);
  }
}

/** The conditions a run must meet, one per clause (the caller ANDs them). */
export function runFilterConditions(eb: RunEb, clauses: FilterClause[], dialect: DialectKind): Expression<SqlBool>[] {
  return clauses.map((clause) => {
    switch (clause.kind) {
      case 'attribute': {
        const attribute = attributeOf(clause.name, 'filter');
        checkClause(clause, attribute.numeric);
        return compareClause(eb, eb.ref(`tracking_run.${attribute.column}`), clause, dialect);
      }
      case 'metric':
        checkClause(clause, true);
        return eb.exists(
          eb
            .selectFrom('tracking_latest_metric as lm')
            .select('lm.key')
            .whereRef('lm.run_id', '=', 'tracking_run.run_id')
            .where('lm.key', '=', clause.name)
            .where('lm.is_nan', '=', 0)
            .where((inner) => compareClause(inner as unknown as RunEb, inner.ref('lm.value'), clause, dialect)),
        );
      case 'param':
      case 'tag': {
        checkClause(clause, false);
        const table = clause.kind === 'param' ? 'tracking_param' : 'tracking_tag';
        return eb.exists(
          eb
            .selectFrom(`${table} as kv`)
            .select('kv.key')
            .whereRef('kv.run_id', '=', 'tracking_run.run_id')
            .where('kv.key', '=', clause.name)
            .where((inner) => compareClause(inner as unknown as RunEb, inner.ref('kv.value'), clause, dialect)),
        );
      }
    }
  });
}

/** The value a run is sorted by for one ORDER BY clause (NULL when the run lacks the key). */
export function runOrderExpression(eb: RunEb, order: OrderClause): Expression<unknown> {
  switch (order.kind) {
    case 'attribute':
      return eb.ref(`tracking_run.${attributeOf(order.name, 'order_by').column}`);
    case 'metric':
      return eb
        .selectFrom('tracking_latest_metric as lm')
        .select('lm.value')
        .whereRef('lm.run_id', '=', 'tracking_run.run_id')
        .where('lm.key', '=', order.name)
        .where('lm.is_nan', '=', 0);
    case 'param':
    case 'tag':
      return eb
        .selectFrom(`${order.kind === 'param' ? 'tracking_param' : 'tracking_tag'} as kv`)
        .select('kv.value')
        .whereRef('kv.run_id', '=', 'tracking_run.run_id')
        .where('kv.key', '=', order.name);
  }
}
