import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { FLIGHTS_PARQUET } from '../test/support/flights.js';
const t0 = performance.now();
let n = 0;
await withDuckDB(async (db) => {
  const result = await db.stream(`SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS weekday, distance, origin, destination FROM read_parquet(${sqlString(FLIGHTS_PARQUET)}) WHERE month(date) = 1`);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (let c = 0; c < 5; c++) { const v = chunk.getColumnValues(c); n += v.length; }
  }
});
console.log('duckdb read+getColumnValues', (performance.now() - t0).toFixed(0), n);
const t1 = performance.now();
let m = 0;
await withDuckDB(async (db) => {
  const result = await db.stream(`SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS weekday, distance, origin, destination FROM read_parquet(${sqlString(FLIGHTS_PARQUET)}) WHERE month(date) = 1`);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    m += chunk.rowCount;
  }
});
console.log('duckdb fetch only', (performance.now() - t1).toFixed(0), m);
