/**
 * What a DuckDB memory size looks like, apart from `duckdb.ts`: the configuration checks
 * sizes on every `loom` start, and this keeps that check from loading DuckDB's native binding.
 */

/** A DuckDB memory size such as `64MB`, `1.5GB` or `512MiB`. */
export const MEMORY_LIMIT = /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;
