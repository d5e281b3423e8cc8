/**
 * A parser for the subset of MLflow's search grammar Loom supports:
 *
 *   filter  := clause (AND clause)*
 *   clause  := key comparator value
 *   key     := entity '.' name            metrics.auc, params.lr, tags."mlflow.runName", attributes.status
 *   value   := 'string' | "string" | number | '(' string (',' string)* ')'
 *   orderBy := key [ASC | DESC]
 *
 * Entities: metrics/metric/m, params/param/p, tags/tag/t, attributes/attribute/attr/run.
 * A name is the rest of the identifier after the first dot, or a quoted/backticked name.
 * Anything else is INVALID_ARGUMENT that says where parsing stopped; nothing here builds SQL.
 *
 * Usage: `parseFilter("metrics.auc > 0.6 and params.lr = '0.1'")`
 */
import { LoomError } from '../core/errors.js';
import { likeEndsInEscape, loneEscapeError } from '../core/sql-dialect.js';

export const COMPARATORS = ['=', '!=', '>', '>=', '<', '<=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'] as const;
export type Comparator = (typeof COMPARATORS)[number];

export const ENTITY_KINDS = ['metric', 'param', 'tag', 'attribute'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

export interface FilterKey {
  kind: EntityKind;
  name: string;
}

export interface FilterClause extends FilterKey {
  comparator: Comparator;
  value: string | number | string[];
}

export interface OrderClause extends FilterKey {
  descending: boolean;
}

const ENTITY_ALIASES: Record<string, EntityKind> = {
  metrics: 'metric', metric: 'metric', m: 'metric',
  params: 'param', param: 'param', p: 'param',
  tags: 'tag', tag: 'tag', t: 'tag',
  attributes: 'attribute', attribute: 'attribute', attr: 'attribute', run: 'attribute',
};

type Token =
  | { type: 'ident'; text: string; at: number }
  | { type: 'string'; text: string; at: number; quote: string }
  | { type: 'number'; value: number; text: string; at: number }
  | { type: 'op'; text: string; at: number }
  | { type: 'punct'; text: '(' | ')' | ','; at: number };

const IDENT = /[A-Za-z_][A-Za-z0-9_.\-/:]*/y;
const NUMBER = /[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/y;
const OPERATOR = /!=|<>|>=|<=|=|>|</y;

function syntaxError(field: string, source: string, at: number, what: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', `invalid ${field} at character ${at + 1} of "${source}": ${what}`, {
    field,
    fix: "write clauses like metrics.auc > 0.6, params.lr = '0.1', tags.team = 'ml' or attributes.status = 'FINISHED', joined with AND",
  });
}

function tokenize(source: string, field: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const match = (re: RegExp) => {
    re.lastIndex = i;
    return re.exec(source);
  };
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= source.length) throw syntaxError(field, source, i, `unterminated ${c}-quoted text`);
        if (source[j] === c) {
          // A doubled quote inside the text stands for one quote, as in SQL.
          if (source[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += source[j];
        j++;
      }
      tokens.push({ type: 'string', text, at: i, quote: c });
      i = j + 1;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ type: 'punct', text: c, at: i });
      i++;
      continue;
    }
    const op = match(OPERATOR);
    if (op) {
      tokens.push({ type: 'op', text: op[0] === '<>' ? '!=' : op[0], at: i });
      i += op[0].length;
      continue;
    }
    const num = match(NUMBER);
    if (num) {
      tokens.push({ type: 'number', value: Number(num[0]), text: num[0], at: i });
      i += num[0].length;
      continue;
    }
    const ident = match(IDENT);
    if (ident) {
      tokens.push({ type: 'ident', text: ident[0], at: i });
      i += ident[0].length;
      continue;
    }
    throw syntaxError(field, source, i, `unexpected character "${c}"`);
  }
  return tokens;
}

class Parser {
  private position = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
    private readonly field: string,
    private readonly bareKind?: EntityKind,
  ) {}

  get done(): boolean {
    return this.position >= this.tokens.length;
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private fail(what: string): never {
    const at = this.peek()?.at ?? this.source.length;
    throw syntaxError(this.field, this.source, at, what);
  }

  private isWord(word: string): boolean {
    const token = this.peek();
    return token?.type === 'ident' && token.text.toUpperCase() === word;
  }

  key(): FilterKey {
    const token = this.peek();
    if (token?.type !== 'ident') this.fail('expected a key such as metrics.auc or params.lr');
    this.position++;
    const dot = token.text.indexOf('.');
    if (dot === -1) {
      if (this.bareKind) return { kind: this.bareKind, name: token.text };
      this.fail(`"${token.text}" needs an entity prefix: metrics., params., tags. or attributes.`);
    }
    const prefix = token.text.slice(0, dot);
    const kind = ENTITY_ALIASES[prefix.toLowerCase()];
    if (!kind) throw syntaxError(this.field, this.source, token.at, `unknown entity "${prefix}" (use metrics, params, tags or attributes)`);
    let name = token.text.slice(dot + 1);
    if (name === '') {
      // metrics."my key" / tags.`mlflow.runName`: the name is the quoted text that follows.
      const quoted = this.peek();
      if (quoted?.type !== 'string' || quoted.quote === "'") this.fail('expected a name after the dot');
      this.position++;
      name = quoted.text;
    }
    return { kind, name };
  }

  comparator(): Comparator {
    const token = this.peek();
    if (token?.type === 'op') {
      this.position++;
      return token.text as Comparator;
    }
    if (this.isWord('NOT')) {
      this.position++;
      if (!this.isWord('IN')) this.fail('expected IN after NOT');
      this.position++;
      return 'NOT IN';
    }
    for (const word of ['LIKE', 'ILIKE', 'IN'] as const) {
      if (this.isWord(word)) {
        this.position++;
        return word;
      }
    }
    return this.fail('expected a comparator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN)');
  }

  value(comparator: Comparator): string | number | string[] {
    const token = this.peek();
    if (comparator === 'IN' || comparator === 'NOT IN') {
      if (token?.type !== 'punct' || token.text !== '(') this.fail("expected a list like ('a', 'b')");
      this.position++;
      const items: string[] = [];
      for (;;) {
        const item = this.peek();
        if (item?.type !== 'string' || item.quote === '`') this.fail('expected a quoted string in the list');
        items.push(item.text);
        this.position++;
        const next = this.peek();
        if (next?.type === 'punct' && next.text === ',') {
          this.position++;
          continue;
        }
        if (next?.type === 'punct' && next.text === ')') {
          this.position++;
          return items;
        }
        this.fail('expected "," or ")" in the list');
      }
    }
    if (token?.type === 'number') {
      this.position++;
      return token.value;
    }
    if (token?.type === 'string' && token.quote !== '`') {
      this.position++;
      return token.text;
    }
    return this.fail('expected a quoted string or a number');
  }

  clause(): FilterClause {
    const key = this.key();
    const comparator = this.comparator();
    const at = this.peek()?.at ?? this.source.length;
    const value = this.value(comparator);
    if ((comparator === 'LIKE' || comparator === 'ILIKE') && typeof value === 'string' && likeEndsInEscape(value)) {
      throw loneEscapeError(comparator, value, this.field, `invalid ${this.field} at character ${at + 1} of "${this.source}": `);
    }
    return { ...key, comparator, value };
  }

  and(): void {
    if (!this.isWord('AND')) this.fail('expected AND between clauses (OR is not supported)');
    this.position++;
  }

  direction(): boolean {
    if (this.isWord('DESC')) {
      this.position++;
      return true;
    }
    if (this.isWord('ASC')) this.position++;
    return false;
  }
}

/**
 * Parses a filter into clauses joined by AND; an empty or blank filter has none.
 * `bareKind` lets a key go without a prefix (experiments: `name = 'x'` is an attribute).
 */
export function parseFilter(source: string | undefined, options: { field?: string; bareKind?: EntityKind } = {}): FilterClause[] {
  const field = options.field ?? 'filter';
  if (source === undefined || source.trim() === '') return [];
  const parser = new Parser(tokenize(source, field), source, field, options.bareKind);
  const clauses = [parser.clause()];
  while (!parser.done) {
    parser.and();
    clauses.push(parser.clause());
  }
  return clauses;
}

/** Parses one ORDER BY item: `metrics.auc DESC`, `attributes.start_time`, `name ASC`. */
export function parseOrderBy(source: string, options: { field?: string; bareKind?: EntityKind } = {}): OrderClause {
  const field = options.field ?? 'order_by';
  const parser = new Parser(tokenize(source, field), source, field, options.bareKind);
  const key = parser.key();
  const descending = parser.direction();
  if (!parser.done) throw syntaxError(field, source, source.length, 'expected only a key and ASC or DESC');
  return { ...key, descending };
}
