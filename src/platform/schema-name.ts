/**
 * What a PostgreSQL schema name may be, apart from `postgres-backend.ts`: the configuration
 * checks `database.schema` on every `loom` start, and this keeps that check from loading `pg`.
 */

/** A schema name PostgreSQL takes unquoted. */
export const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
