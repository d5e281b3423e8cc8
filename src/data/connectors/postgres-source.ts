/**
 * A PostgreSQL table or query, read with `pg`: `COPY (...) TO STDOUT (FORMAT csv)` is
 * streamed to a file in the ingest's work directory (bounded memory: the stream's
 * back-pressure, never the table in JavaScript), then read by DuckDB with the column
 * types PostgreSQL reported, so nothing is left to a sniffer. DuckDB's own postgres
 * extension cannot be downloaded here, and COPY is PostgreSQL's fastest way out.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { LoomError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { sqlIdent } from '../duckdb.js';
import type { PostgresSource } from '../source-spec.js';
import type { DataSource, LoadContext, LoadedSource } from './connector.js';
import { loadCsv } from './csv-reader.js';

/** PostgreSQL type OIDs (pg_type.oid) → DuckDB types; anything else is read as text. */
const PG_TYPES: Record<number, string> = {
  16: 'BOOLEAN',
  20: 'BIGINT',
  21: 'SMALLINT',
  23: 'INTEGER',
  700: 'FLOAT',
  701: 'DOUBLE',
  1700: 'DOUBLE',
  1082: 'DATE',
  1083: 'TIME',
  1114: 'TIMESTAMP',
  1184: 'TIMESTAMPTZ',
  2950: 'UUID',
};

export class PostgresDataSource implements DataSource {
  constructor(readonly spec: PostgresSource) {}

  async load({ db, workDir }: LoadContext): Promise<LoadedSource> {
    const relation = this.spec.table
      ? this.spec.table.split('.').map((part) => sqlIdent(part)).join('.')
      : `(${this.spec.query!.trim().replace(/;\s*$/, '')})`;
    const client = new pg.Client({ connectionString: this.spec.url });
    await client.connect().catch((error: unknown) => {
      throw new LoomError('UNAVAILABLE', `cannot connect to PostgreSQL at ${redactUrl(this.spec.url)}: ${error instanceof Error ? error.message : String(error)}`, {
        field: 'source.url',
        fix: 'check that the server is running and the URL, user and password are right',
      });
    });
    const extract = join(workDir, 'postgres-extract.csv');
    try {
      // Timestamps with a time zone are written in UTC so DuckDB reads them as written.
      await client.query(`SET TIME ZONE 'UTC'`);
      const described = await client.query(`SELECT * FROM ${relation} AS source LIMIT 0`).catch((error: unknown) => {
        throw new LoomError('INVALID_ARGUMENT', `PostgreSQL cannot read ${this.spec.table ? `table ${this.spec.table}` : 'the query'}: ${error instanceof Error ? error.message : String(error)}`, {
          field: this.spec.table ? 'source.table' : 'source.query',
        });
      });
      const columns = Object.fromEntries(described.fields.map((field) => [field.name, PG_TYPES[field.dataTypeID] ?? 'VARCHAR']));
      const stream = client.query(copyTo(`COPY (SELECT * FROM ${relation} AS source) TO STDOUT WITH (FORMAT csv, HEADER true)`));
      await pipeline(stream, createWriteStream(extract));
      await loadCsv(db, [extract], { columns, delimiter: ',', quotedEmptyIsString: true });
      await db.run(`UPDATE __loom_rejects SET file = 'postgres'`);
    } finally {
      await client.end();
    }
    return { format: 'postgres', files: [] };
  }
}
