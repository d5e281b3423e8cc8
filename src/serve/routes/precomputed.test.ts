import assert from 'node:assert/strict';
import { copyFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { queryRows, sqlString, withDuckDB } from '../../data/duckdb.js';
import { createHttpApp } from '../../http/app.js';
import { MODEL_SERVER_LIMITS } from '../../http/limits.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { registeredModelProject } from '../../../test/support/registered-model.js';
import { precomputePredictions } from '../batch/precompute.js';
import { PRECOMPUTED_DB_FILE } from '../batch/precomputed-table.js';
import { precomputedRoutes } from './precomputed.js';

const KEYS = ['origin', 'destination', 'hour', 'weekday', 'distance'];

test('a new `predict --precompute` output, or a replaced table file, is served without a restart; the old table answers until the new one is open', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const project = await registeredModelProject(dir);
  t.after(() => project.db.close());
  const evalPath = join(project.fixture.examples.path, 'eval', 'data.parquet');
  // The first table covers the first 40 eval rows; the second covers all of them.
  const firstPath = join(dir, 'first.parquet');
  const [early, late] = await withDuckDB(async (db) => {
    await db.run(`COPY (SELECT * FROM read_parquet(${sqlString(evalPath)}) LIMIT 40) TO ${sqlString(firstPath)} (FORMAT PARQUET)`);
    const keyOf = (row: Record<string, unknown>) => KEYS.map((column) => String(row[column])).join('|');
    const inFirst = await queryRows(db, `SELECT ${KEYS.join(', ')} FROM read_parquet(${sqlString(firstPath)}) LIMIT 1`);
    const onlyLater = await queryRows(db, `SELECT ${KEYS.join(', ')} FROM read_parquet(${sqlString(evalPath)})
      EXCEPT SELECT ${KEYS.join(', ')} FROM read_parquet(${sqlString(firstPath)}) LIMIT 1`);
    return [keyOf(inFirst[0]!), keyOf(onlyLater[0]!)];
  });
  const services = { registry: project.db.registry, metadata: project.db.metadata, artifacts: project.artifacts };
  const first = await precomputePredictions(services, { model: 'flights', input: firstPath, keys: KEYS });

  // Built as the model server builds its app: the shared error handler answers the 404s.
  const app = await createHttpApp({ limits: MODEL_SERVER_LIMITS, errorFormat: 'kserve', anonymousName: 'anonymous' });
  await app.register(precomputedRoutes, { metadata: project.db.metadata, artifacts: project.artifacts, reloadIntervalMs: 50 });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  let closed = false;
  t.after(() => (closed ? undefined : app.close()));
  const get = async (path: string) => {
    const response = await fetch(base + path);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  assert.equal((await get('/v1/predictions/flights')).body.key_count, first.keyCount);
  assert.equal((await get(`/v1/predictions/flights/${encodeURIComponent(early)}`)).status, 200);
  assert.equal((await get(`/v1/predictions/flights/${encodeURIComponent(late)}`)).status, 404, 'not precomputed yet');

  // Lookups keep going while the new table is computed and swapped in: none may fail.
  let stop = false;
  const statuses: number[] = [];
  const load = (async () => {
    while (!stop) statuses.push((await get(`/v1/predictions/flights/${encodeURIComponent(early)}`)).status);
  })();
  const second = await precomputePredictions(services, { model: 'flights', input: evalPath, keys: KEYS });
  assert.ok(second.keyCount > first.keyCount);
  const deadline = Date.now() + 30_000;
  while ((await get('/v1/predictions/flights')).body.key_count !== second.keyCount) {
    assert.ok(Date.now() < deadline, 'the new table was never served');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  stop = true;
  await load;
  assert.ok(statuses.length > 0);
  assert.deepEqual([...new Set(statuses)], [200], 'no lookup failed during the reload');
  const manifest = (await get('/v1/predictions/flights')).body;
  assert.equal(manifest.source, second.uri);
  const answer = await get(`/v1/predictions/flights/${encodeURIComponent(late)}`);
  assert.equal(answer.status, 200, 'a key only the new table has is served');
  assert.equal(answer.body.key, late);

  // The table's file replaced in place (a new inode, a new mtime): served from then on too.
  const tableFile = join(await project.artifacts.localPath(second.uri), PRECOMPUTED_DB_FILE);
  const replacement = join(dir, 'replacement.sqlite');
  await copyFile(tableFile, replacement);
  const writer = new Database(replacement);
  writer.prepare('UPDATE predictions SET outputs = ? WHERE key = ?').run('{"probability":0.123}', late);
  writer.close();
  await rename(replacement, tableFile);
  const replacedDeadline = Date.now() + 30_000;
  while (JSON.stringify((await get(`/v1/predictions/flights/${encodeURIComponent(late)}`)).body.outputs) !== '{"probability":0.123}') {
    assert.ok(Date.now() < replacedDeadline, 'the replaced file was never served');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  // Closed here, before the temporary directory goes, so no reload runs against removed files.
  await app.close();
  closed = true;
});
