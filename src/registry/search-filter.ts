/**
 * MLflow's registry search filters (`name LIKE 'flights%' AND run_id = 'abc'`) parsed into
 * the store's filter objects. Supported: `name` with `=`, `LIKE`, `ILIKE`; `tags.<key>`
 * (or `tag.`, key optionally in backquotes) with `=` and `!=`; for versions also `run_id =`
 * and `source_path =`; clauses joined by AND. MLflow's client itself adds
 * ``tag.`mlflow.prompt.is_prompt` != 'true'`` to every model search. Anything else is an
 * INVALID_ARGUMENT naming what is supported, never silently ignored.
 *
 * Usage: `parseVersionFilter("name = 'flights' AND run_id = 'r1'")`
 */
import { LoomError } from '../core/errors.js';
import { likeEndsInEscape, loneEscapeError } from '../core/sql-dialect.js';
import type { ModelFilter, VersionFilter } from './types.js';

interface Clause {
  key: string;
  /** The tag key for `tags.<key>` / `tag.<key>` clauses. */
  tag?: string;
  op: '=' | '!=' | 'LIKE' | 'ILIKE';
  value: string;
}

// `tags.` keys may be backquoted (`tags.\`mlflow.prompt.is_prompt\``), as MLflow's client writes them.
const CLAUSE = /^\s*(tags?\.(?:`[^`"\\]+`|[A-Za-z0-9_.-]+)|[A-Za-z_][A-Za-z0-9_]*)\s*(!=|=|LIKE\b|ILIKE\b)\s*('(?:[^']|'')*'|"(?:[^"]|"")*")\s*/i;
const AND = /^AND\s+/i;

function parseClauses(filter: string, supported: string): Clause[] {
  const clauses: Clause[] = [];
  let rest = filter.trim();
  while (rest.length > 0) {
    const match = CLAUSE.exec(rest);
    if (!match) throw badFilter(filter, supported);
    const quote = match[3][0];
    const value = match[3].slice(1, -1).replaceAll(quote + quote, quote);
    const tagMatch = /^tags?\.`?([^`]+)`?$/i.exec(match[1]);
    const op = match[2].toUpperCase() as Clause['op'];
    if ((op === 'LIKE' || op === 'ILIKE') && likeEndsInEscape(value)) throw loneEscapeError(op, value, 'filter');
    clauses.push(tagMatch ? { key: 'tag', tag: tagMatch[1], op, value } : { key: match[1].toLowerCase(), op, value });
    rest = rest.slice(match[0].length);
    if (rest.length === 0) break;
    const and = AND.exec(rest);
    if (!and) throw badFilter(filter, supported);
    rest = rest.slice(and[0].length);
  }
  return clauses;
}

function badFilter(filter: string, supported: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', `unsupported filter ${JSON.stringify(filter)}`, {
    field: 'filter',
    fix: `write clauses like ${supported}, joined by AND; quote values with '...'`,
  });
}

/** Applies a `name` or `tags.` clause; false for any other clause. */
function applyModelClause(filter: ModelFilter, clause: Clause): boolean {
  if (clause.key === 'tag' && (clause.op === '=' || clause.op === '!=')) {
    (filter.tags ??= []).push({ key: clause.tag!, op: clause.op, value: clause.value });
    return true;
  }
  if (clause.key !== 'name' || clause.op === '!=') return false;
  if (clause.op === '=') filter.name = clause.value;
  else if (clause.op === 'LIKE') filter.nameLike = clause.value;
  else filter.nameILike = clause.value;
  return true;
}

const MODEL_SUPPORTED = "name = 'x', name LIKE 'x%', name ILIKE '%x%', tags.k = 'v', tags.k != 'v'";
const VERSION_SUPPORTED = `${MODEL_SUPPORTED}, run_id = 'r', source_path = 's'`;

/** A registered-model search filter; an empty or absent filter matches every model. */
export function parseModelFilter(filter: string | undefined): ModelFilter {
  const result: ModelFilter = {};
  for (const clause of parseClauses(filter ?? '', MODEL_SUPPORTED)) {
    if (!applyModelClause(result, clause)) throw badFilter(filter!, MODEL_SUPPORTED);
  }
  return result;
}

/** A model-version search filter; an empty or absent filter matches every version. */
export function parseVersionFilter(filter: string | undefined): VersionFilter {
  const result: VersionFilter = {};
  for (const clause of parseClauses(filter ?? '', VERSION_SUPPORTED)) {
    if (applyModelClause(result, clause)) continue;
    if (clause.key === 'run_id' && clause.op === '=') result.runId = clause.value;
    else if (clause.key === 'source_path' && clause.op === '=') result.source = clause.value;
    else throw badFilter(filter!, VERSION_SUPPORTED);
  }
  return result;
}
