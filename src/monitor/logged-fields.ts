/**
 * How monitoring reads a logged feature or output: the fields of the prediction log's
 * columnar STRUCTs with their types (`structFieldsOf`), and each value typed as the schema
 * says (`loggedValue`), from a STRUCT field where that gives the value its JSON text would,
 * else from the text. Windows, their profiles and online quality read values alike.
 *
 * Usage: `const fields = await structFields(db, log.relation, 'features')`, then
 *        `SELECT ${loggedValue('features', fields, 'delay', 'INT')} AS delay FROM (${log.relation})`
 */
import { DuckDBStructType, DuckDBTypeId, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { queryRows, sqlString } from '../data/duckdb.js';
import type { FeatureType } from '../validate/statistics.js';

/**
 * The fields of `outputs` holding a number in every row of a sample (its first 1,000 rows that
 * have outputs): a score, a probability. `fields`: the column's STRUCT fields (`structFieldsOf`;
 * undefined for JSON). Sorted by their UTF-8 bytes, as DuckDB sorts names.
 */
export async function numericOutputFields(db: DuckDBConnection, relation: string, fields: Map<string, string> | undefined): Promise<string[]> {
  const sample = `SELECT outputs FROM (${relation}) LIMIT 1000`;
  if (fields && [...fields.values()].every((type) => NUMBER_TYPE.test(type) || type === 'BOOLEAN' || type === 'VARCHAR')) {
    // Fields of these types: a number's JSON is a number unless it is NULL, a boolean's or a string's never is. So only
    // NULLs are looked for, without writing each row's outputs as JSON to read its values' JSON types (the other way, below).
    const numbers = [...fields].filter(([, type]) => NUMBER_TYPE.test(type)).map(([name]) => name);
    if (numbers.length === 0) return [];
    const [present] = await queryRows(db, `SELECT ${numbers.map((name, i) => `bool_and(struct_extract(outputs, ${sqlString(name)}) IS NOT NULL) AS f${i}`).join(', ')} FROM (${sample}) WHERE outputs IS NOT NULL`);
    return numbers.filter((_, i) => present![`f${i}`] === true).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }
  const rows = await queryRows(
    db,
    `SELECT k, bool_and(json_type(outputs, '$.' || to_json(k)::VARCHAR) IN ('DOUBLE', 'BIGINT', 'UBIGINT')) AS numeric
     FROM (SELECT outputs, unnest(json_keys(outputs)) AS k FROM (${sample})) GROUP BY k ORDER BY k`,
  );
  return rows.filter((r) => r.numeric === true).map((r) => String(r.k));
}

/** The numeric types (as DESCRIBE names them) whose JSON is a number: integers of every width, floats, decimals. */
const NUMBER_TYPE = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/;

/** The fields of a STRUCT `column` (the log's columnar layout) with their types; undefined when it is JSON. */
export async function structFields(db: DuckDBConnection, relation: string, column: LogObjectColumn): Promise<Map<string, string> | undefined> {
  return (await structFieldsOf(db, relation, [column])).get(column);
}

/** The log's columns of named values. */
export type LogObjectColumn = 'features' | 'outputs';

/**
 * `structFields` of several columns, whatever their number: their types, from a query of no
 * rows. A field's type is named as DESCRIBE names it (a JSON field is 'JSON', not VARCHAR):
 * read off the result's types where their names are DESCRIBE's (`DESCRIBED_ALIKE`), else, when
 * some field is of another type (nested, aliased), from one DESCRIBE of every STRUCT's fields,
 * told apart by their counts.
 */
export async function structFieldsOf(db: DuckDBConnection, relation: string, columns: readonly LogObjectColumn[]): Promise<Map<LogObjectColumn, Map<string, string> | undefined>> {
  const types = (await db.run(`SELECT ${columns.join(', ')} FROM (${relation}) LIMIT 0`)).columnTypes();
  const structs = columns.flatMap((column, i) => {
    const type = types[i];
    return type instanceof DuckDBStructType ? [{ column, names: type.entryNames, types: type.entryTypes }] : [];
  });
  const fields = new Map<LogObjectColumn, Map<string, string> | undefined>(columns.map((column) => [column, undefined]));
  if (structs.length === 0) return fields;
  const named = structs.map((s) => s.types.map(describedName));
  if (named.every((names) => names.every((name) => name !== undefined))) {
    structs.forEach(({ column, names }, i) => fields.set(column, new Map(names.map((name, j) => [name, named[i]![j]!]))));
    return fields;
  }
  const described = await queryRows(db, `DESCRIBE SELECT ${structs.map((s) => `${s.column}.*`).join(', ')} FROM (${relation})`);
  let offset = 0;
  for (const { column, names } of structs) {
    fields.set(column, new Map(described.slice(offset, offset + names.length).map((r) => [String(r.column_name), String(r.column_type)])));
    offset += names.length;
  }
  return fields;
}

/**
 * The types whose name (`toString`) is the one DESCRIBE gives: not nested (DESCRIBE quotes a
 * nested STRUCT's field names, and names a list of JSON `JSON[]`, where `toString` does not).
 */
const DESCRIBED_ALIKE = new Set<DuckDBTypeId>([
  DuckDBTypeId.BOOLEAN, DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL, DuckDBTypeId.VARCHAR, DuckDBTypeId.BLOB, DuckDBTypeId.UUID, DuckDBTypeId.ENUM, DuckDBTypeId.BIT,
  DuckDBTypeId.DATE, DuckDBTypeId.TIME, DuckDBTypeId.TIME_TZ, DuckDBTypeId.INTERVAL,
  DuckDBTypeId.TIMESTAMP, DuckDBTypeId.TIMESTAMP_S, DuckDBTypeId.TIMESTAMP_NS, DuckDBTypeId.TIMESTAMP_TZ,
]);

/** A field type's name as DESCRIBE gives it; undefined when only DESCRIBE can tell (`DESCRIBED_ALIKE`). */
function describedName(type: DuckDBType): string | undefined {
  if (type.alias !== undefined) return type.alias === 'JSON' && type.typeId === DuckDBTypeId.VARCHAR ? 'JSON' : undefined;
  return DESCRIBED_ALIKE.has(type.typeId) ? type.toString() : undefined;
}

/**
 * A logged feature's (or output's) value, typed as the schema says. From JSON, the value's
 * text cast (a value of another type is NULL, so missing). From a columnar log's STRUCT, the
 * field itself wherever that gives the same value as casting its JSON text (text, integers,
 * a number for a FLOAT, a boolean for a BOOL); a key no row had is missing; any other field
 * type goes through its JSON text, as before.
 */
export function loggedValue(column: 'features' | 'outputs', fields: Map<string, string> | undefined, name: string, type: FeatureType): string {
  const fieldType = fields?.get(name);
  if (fields && fieldType === undefined) return castText('NULL::VARCHAR', type);
  const field = `struct_extract(${column}, ${sqlString(name)})`;
  const integer = fieldType === 'BIGINT' || fieldType === 'UBIGINT';
  if (fieldType === 'VARCHAR') return castText(field, type);
  if (type === 'STRING' && integer) return `${field}::VARCHAR`;
  if ((type === 'INT' && integer) || (type === 'FLOAT' && (integer || fieldType === 'DOUBLE'))) return `TRY_CAST(${field} AS ${type === 'INT' ? 'BIGINT' : 'DOUBLE'})`;
  if (type === 'BOOL' && fieldType === 'BOOLEAN') return field;
  return castText(`(${column} ->> ${sqlString(name)})`, type);
}

/** A value's text typed as the schema says (text of another type is NULL). */
function castText(text: string, type: FeatureType): string {
  if (type === 'STRING') return text;
  if (type === 'TIMESTAMP') return `TRY_CAST(${text} AS TIMESTAMP)`;
  if (type === 'BOOL') return `TRY_CAST(${text} AS BOOLEAN)`;
  return `TRY_CAST(${text} AS ${type === 'INT' ? 'BIGINT' : 'DOUBLE'})`;
}
