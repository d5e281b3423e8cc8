/**
 * NDJSON, one object per line. DuckDB's JSON reader turns a malformed line into a row
 * of NULLs when told to ignore errors, which would drop data silently, so lines are
 * read as text first (CSV reader, no delimiter, rejects on: bad UTF-8 is caught there
 * with its line number) and classified in SQL: malformed JSON, not an object, or a value
 * that does not convert to its column's type. Good lines become rows with
 * `json_transform`. Column types are inferred over the good lines as DuckDB's JSON sniffer
 * would (which itself cannot sniff a file holding a line that is not an object),
 * overridden by the user's.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlIdent, sqlString } from '../duckdb.js';
import { CSV_BUFFER_BYTES } from './csv-reader.js';

export async function loadNdjson(db: DuckDBConnection, files: string[], types: Record<string, string> = {}): Promise<void> {
  await db.run(`CREATE TEMP TABLE __loom_lines (file VARCHAR, ordinal BIGINT, line VARCHAR)`);
  for (const file of files) {
    // One scan per file keeps row_number() in file order (DuckDB preserves insertion order).
    await db.run(`INSERT INTO __loom_lines SELECT ${sqlString(file)}, row_number() OVER (), line
      FROM read_csv(${sqlString(file)}, columns = {'line': 'VARCHAR'}, header = false, delim = E'\\x01', quote = '', escape = '',
        store_rejects = true, rejects_table = '__loom_csv_errors', rejects_scan = '__loom_csv_scans', buffer_size = ${CSV_BUFFER_BYTES})`);
  }
  await db.run(`INSERT INTO __loom_rejects
    SELECT s.file_path, e.line, CASE WHEN e.error_type IN ('INVALID ENCODING', 'INVALID UNICODE') THEN 'bad_encoding' ELSE 'malformed_json' END, e.error_message, e.csv_line
    FROM __loom_csv_errors e JOIN __loom_csv_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id`);

  await db.run(`CREATE TEMP TABLE __loom_checked AS
    SELECT file, ordinal, line,
      CASE WHEN NOT json_valid(line) THEN 'malformed_json' WHEN json_type(line) <> 'OBJECT' THEN 'not_an_object' END AS problem
    FROM __loom_lines WHERE line IS NOT NULL AND trim(line) <> ''`);
  const structure = await inferStructure(db, types);
  const columns = Object.entries(structure).map(([name, type]) => ({ name, type: typeof type === 'string' ? type : 'nested' }));
  const path = jsonPath;
  // A value present (not JSON null) whose converted value is NULL did not convert.
  const failed = columns.map((c, i) => `CASE WHEN problem IS NOT NULL THEN NULL WHEN json_type(line, ${path(c.name)}) <> 'NULL' AND r.${sqlIdent(c.name)} IS NULL THEN ${i} END`);
  await db.run(`CREATE TEMP TABLE __loom_parsed AS
    SELECT file, ordinal, line, problem, r, list_filter([${failed.join(', ')}], x -> x IS NOT NULL) AS failed
    FROM (SELECT *, CASE WHEN problem IS NULL THEN json_transform(line, ${sqlString(JSON.stringify(structure))}) END AS r FROM __loom_checked)`);
  const names = `[${columns.map((c) => sqlString(c.name)).join(', ')}]`;
  const types_ = `[${columns.map((c) => sqlString(c.type)).join(', ')}]`;
  await db.run(`INSERT INTO __loom_rejects
    SELECT file, ordinal, coalesce(problem, 'unparseable_value'),
      CASE problem WHEN 'malformed_json' THEN 'the line is not valid JSON' WHEN 'not_an_object' THEN 'the line is JSON but not an object'
        ELSE 'cannot convert ' || list_transform(failed, i -> '"' || ${names}[i + 1] || '" to ' || ${types_}[i + 1])::VARCHAR END,
      line
    FROM __loom_parsed WHERE problem IS NOT NULL OR len(failed) > 0`);
  await db.run(`CREATE TEMP TABLE __loom_input AS
    SELECT ${columns.map((c) => `r.${sqlIdent(c.name)} AS ${sqlIdent(c.name)}`).join(', ')}
    FROM __loom_parsed WHERE problem IS NULL AND len(failed) = 0`);
  await fixLineNumbers(db);
  await db.run('DROP TABLE __loom_parsed; DROP TABLE __loom_checked; DROP TABLE __loom_lines');
}

type Structure = { [name: string]: string | Structure | Structure[] | string[] };

/**
 * Column types as DuckDB's JSON reader would find them, over every good line (it cannot
 * sniff a file with lines that are not objects): the merged structure of the objects,
 * whole numbers as BIGINT, and strings that all parse as timestamps (or dates) as such.
 * The user's types win.
 */
async function inferStructure(db: DuckDBConnection, types: Record<string, string>): Promise<Structure> {
  const merged = (await queryRows(db, `SELECT json_group_structure(line::JSON)::VARCHAR AS s FROM __loom_checked WHERE problem IS NULL`))[0]?.s;
  const structure = normalise(JSON.parse(String(merged ?? '{}')) as Structure) as Structure;
  const strings = Object.keys(structure).filter((name) => structure[name] === 'VARCHAR' && !(name in types));
  if (strings.length > 0) {
    const value = (name: string) => `(line->>${jsonPath(name)})`;
    const checks = strings.map((name, i) =>
      `count(${value(name)}) > 0 AND count(*) FILTER (WHERE ${value(name)} IS NOT NULL AND try_cast(${value(name)} AS TIMESTAMP) IS NULL) = 0 AS t${i},
       max(length(${value(name)})) <= 10 AS d${i}`,
    );
    const [found] = await queryRows(db, `SELECT ${checks.join(', ')} FROM __loom_checked WHERE problem IS NULL`);
    strings.forEach((name, i) => {
      if (found?.[`t${i}`] === true) structure[name] = found[`d${i}`] === true ? 'DATE' : 'TIMESTAMP';
    });
  }
  return { ...structure, ...types };
}

function normalise(node: unknown): unknown {
  if (typeof node === 'string') return node === 'UBIGINT' ? 'BIGINT' : node === 'NULL' ? 'VARCHAR' : node;
  if (Array.isArray(node)) return node.map(normalise);
  return Object.fromEntries(Object.entries(node as Record<string, unknown>).map(([k, v]) => [k, normalise(v)]));
}

/**
 * Lines rejected for their encoding are missing from the ordinals of the lines after
 * them: the k-th line read is line k + (rejected lines before it) of its file.
 */
async function fixLineNumbers(db: DuckDBConnection): Promise<void> {
  await db.run(`CREATE TEMP TABLE __loom_encoding AS
    SELECT file, line - row_number() OVER (PARTITION BY file ORDER BY line) AS read_before FROM __loom_rejects WHERE reason = 'bad_encoding'`);
  await db.run(`UPDATE __loom_rejects SET line = line + (
      SELECT count(*) FROM __loom_encoding e WHERE e.file = __loom_rejects.file AND e.read_before < __loom_rejects.line)
    WHERE reason <> 'bad_encoding'`);
  await db.run('DROP TABLE __loom_encoding');
}

/** The JSON path of a top-level key, as a SQL string literal; backslashes and quotes escaped. */
function jsonPath(name: string): string {
  return sqlString(`$."${name.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);
}
