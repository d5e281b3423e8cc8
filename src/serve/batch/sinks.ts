/**
 * Where batch predictions go, one batch at a time: a Parquet file (data chunks appended to a
 * DuckDB table through an Appender, then one COPY to the file, written beside it and
 * renamed so a failed job leaves no half file), or a PostgreSQL table (one
 * `INSERT ... SELECT FROM unnest($1, $2, ...)` per batch, all in one transaction so a
 * failed job leaves no table).
 *
 * Usage: `const sink = await openParquetSink(instance, path, columns); await sink.write(batch); await sink.finish();`
 */
import { rename, rm, stat } from 'node:fs/promises';
import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, FLOAT, INTEGER, VARCHAR } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBInstance, DuckDBType, DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import pg from 'pg';
import { LoomError } from '../../core/errors.js';
import { sqlIdent, sqlString } from '../../data/duckdb.js';
import type { TensorSpec } from '../../registry/types.js';
import type { OutputColumn, ScoredBatch } from './stream-score.js';

/** A written column: a pass-through column (with its DuckDB type) or a model output. */
export type SinkColumn = { name: string; kind: 'keep'; type: DuckDBType } | { name: string; kind: 'output'; type: TensorSpec['type'] };

export interface PredictionSink {
  write(batch: ScoredBatch): Promise<void>;
  /** Makes the output visible; resolves to where it is. */
  finish(): Promise<string>;
  /** Leaves nothing behind. */
  abort(): Promise<void>;
}

const OUTPUT_SQL: Record<TensorSpec['type'], { duckdb: string; postgres: string }> = {
  // float32 goes to double precision in PostgreSQL: `real` prints as the shortest decimal, which reads back as a different double.
  float32: { duckdb: 'FLOAT', postgres: 'double precision' },
  float64: { duckdb: 'DOUBLE', postgres: 'double precision' },
  int64: { duckdb: 'BIGINT', postgres: 'bigint' },
  int32: { duckdb: 'INTEGER', postgres: 'integer' },
  string: { duckdb: 'VARCHAR', postgres: 'text' },
  bool: { duckdb: 'BOOLEAN', postgres: 'boolean' },
};

/** DuckDB's rows per data chunk (STANDARD_VECTOR_SIZE); a larger chunk is refused. */
const DUCKDB_VECTOR_SIZE = 2048;

const OUTPUT_DUCKDB_TYPE: Record<TensorSpec['type'], DuckDBType> = {
  float32: FLOAT,
  float64: DOUBLE,
  int64: BIGINT,
  int32: INTEGER,
  string: VARCHAR,
  bool: BOOLEAN,
};

/** The SQL type of a column, in DuckDB's dialect. */
export function duckdbColumnType(column: SinkColumn): string {
  return column.kind === 'keep' ? column.type.toString() : OUTPUT_SQL[column.type].duckdb;
}

export async function openParquetSink(instance: DuckDBInstance, path: string, columns: SinkColumn[]): Promise<PredictionSink> {
  const connection = await instance.connect();
  const table = 'loom_predictions_out';
  await connection.run(`CREATE TABLE ${table} (${columns.map((c) => `${sqlIdent(c.name)} ${duckdbColumnType(c)}`).join(', ')})`);
  const appender: DuckDBAppender = await connection.createAppender(table);
  const types = columns.map((c) => (c.kind === 'keep' ? c.type : OUTPUT_DUCKDB_TYPE[c.type]));
  const chunkRows = DUCKDB_VECTOR_SIZE;
  const partial = `${path}.partial`;
  return {
    async write(batch) {
      // Whole data chunks (2,048 rows): values go into JS typed arrays and cross to DuckDB once per column, not once per value.
      for (let offset = 0; offset < batch.rowCount; offset += chunkRows) {
        const rows = Math.min(chunkRows, batch.rowCount - offset);
        const chunk = DuckDBDataChunk.create(types, rows);
        let keepIndex = 0;
        columns.forEach((column, index) => {
          if (column.kind === 'keep') {
            chunk.setColumnValues(index, batch.keep[keepIndex++]!.slice(offset, offset + rows));
            return;
          }
          const vector = chunk.getColumnVector(index) as DuckDBVector<DuckDBValue>;
          const data = batch.outputs[column.name]!;
          const bool = column.type === 'bool';
          for (let row = 0; row < rows; row++) {
            const value = data[offset + row]!;
            vector.setItem(row, bool ? value !== 0 : value);
          }
          vector.flush();
        });
        appender.appendDataChunk(chunk);
      }
    },
    async finish() {
      appender.closeSync();
      await connection.run(`COPY ${table} TO ${sqlString(partial)} (FORMAT PARQUET)`);
      await connection.run(`DROP TABLE ${table}`);
      connection.closeSync();
      await rename(partial, path);
      return path;
    },
    async abort() {
      try {
        appender.closeSync();
      } catch {
        // Closing flushes; after a failed append there may be nothing valid to flush.
      }
      connection.closeSync();
      await rm(partial, { force: true });
    },
  };
}

/** A PostgreSQL table named `table` or `schema.table`. */
export interface PostgresTarget {
  url: string;
  schema?: string;
  table: string;
}

/** `postgres://user@host:port/db?table=schema.name`: the connection URL and the table, parsed. */
export function parsePostgresOutput(output: string): PostgresTarget {
  const url = new URL(output);
  const name = url.searchParams.get('table');
  const fix = 'write --output postgres://USER@HOST:PORT/DATABASE?table=NAME (or ?table=SCHEMA.NAME)';
  if (!name || !/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new LoomError('INVALID_ARGUMENT', `--output ${url.protocol}//… names no valid table (?table=${name ?? ''})`, { field: '--output', fix });
  }
  url.searchParams.delete('table');
  const [schema, table] = name.includes('.') ? name.split('.') : [undefined, name];
  return { url: url.toString(), schema, table: table! };
}

/** The table's name as SQL, schema-qualified when a schema is given. */
export function postgresTableName(target: PostgresTarget): string {
  return target.schema ? `${sqlIdent(target.schema)}.${sqlIdent(target.table)}` : sqlIdent(target.table);
}

export async function openPostgresSink(target: PostgresTarget, columns: SinkColumn[], options: { overwrite?: boolean } = {}): Promise<PredictionSink> {
  const client = new pg.Client({ connectionString: target.url });
  try {
    await client.connect();
  } catch (error) {
    throw new LoomError('UNAVAILABLE', `cannot connect to PostgreSQL for --output: ${(error as Error).message}`, {
      field: '--output',
      fix: 'check the host, port, user and database in the URL',
    });
  }
  const name = postgresTableName(target);
  const types = columns.map(postgresType);
  try {
    await client.query('BEGIN');
    if (options.overwrite) await client.query(`DROP TABLE IF EXISTS ${name}`);
    await client.query(`CREATE TABLE ${name} (${columns.map((c, i) => `${sqlIdent(c.name)} ${types[i]}`).join(', ')})`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    await client.end();
    if ((error as { code?: string }).code === '42P07') {
      throw new LoomError('ALREADY_EXISTS', `the table ${target.schema ? `${target.schema}.` : ''}${target.table} already exists`, {
        field: '--output',
        fix: 'choose another table, or add --overwrite to replace it',
      });
    }
    throw error;
  }
  const insert = `INSERT INTO ${name} SELECT * FROM unnest(${types.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})`;
  return {
    async write(batch) {
      let keepIndex = 0;
      const params = columns.map((column) =>
        column.kind === 'keep' ? batch.keep[keepIndex++]!.map(toPostgresValue) : outputValues(column.type, batch.outputs[column.name]!),
      );
      await client.query(insert, params);
    },
    async finish() {
      await client.query('COMMIT');
      await client.end();
      return `${target.schema ? `${target.schema}.` : ''}${target.table}`;
    },
    async abort() {
      await client.query('ROLLBACK').catch(() => {});
      await client.end();
    },
  };
}

function postgresType(column: SinkColumn): string {
  if (column.kind === 'output') return OUTPUT_SQL[column.type].postgres;
  const sql = column.type.toString();
  if (['BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'UINTEGER', 'USMALLINT', 'UTINYINT'].includes(sql)) return 'bigint';
  if (sql === 'DOUBLE' || sql === 'FLOAT') return 'double precision';
  if (sql === 'BOOLEAN') return 'boolean';
  if (sql === 'DATE') return 'date';
  if (sql.startsWith('TIMESTAMP')) return sql === 'TIMESTAMP WITH TIME ZONE' ? 'timestamptz' : 'timestamp';
  return 'text';
}

function toPostgresValue(value: DuckDBValue): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  return String(value);
}

function outputValues(type: TensorSpec['type'], data: OutputColumn): unknown[] {
  if (type === 'bool') return Array.from(data as Uint8Array, (value) => value !== 0);
  if (Array.isArray(data)) return data;
  return Array.from(data as ArrayLike<number | bigint>);
}

/** Whether a Parquet output would replace a file. */
export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
