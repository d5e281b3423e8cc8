/**
 * Loom as a user gets it: `npm pack` of this checkout, installed into a new project in a
 * temporary folder outside the repository, with a clean environment (none of the repo's
 * settings). Then `loom init` on a CSV of flights whose `date` column is a raw timestamp,
 * `loom run` of the scaffolded pipeline (which imports `loom-mlops`), `loom serve` of the
 * champion answering raw rows over HTTP, and `loom predict` scoring the same rows in batch:
 * both must give the same probabilities.
 *
 * Three things are not done as a user would, to keep the test to a few minutes: packages come from
 * the local npm cache first (`--prefer-offline`), better-sqlite3's native addon is copied from
 * this checkout's install (same version) instead of being compiled again, and under `npm test` a
 * dist/ already built from the current sources is packed as it is. onnxruntime-node's
 * install script is denied exactly as the README and `loom init` tell users to.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sqlString, withDuckDB } from '../../src/data/duckdb.js';
import { runProcess, type CliResult } from '../support/cli.js';
import { FLIGHTS_PARQUET, makeTempDir } from '../support/flights.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npmMissing = spawnSync(NPM, ['--version'], { encoding: 'utf8' }).status !== 0;

/** What a user's shell has: no LOOM_* settings, no npm_config_* from a parent `npm test`. */
const cleanEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...(process.env.TMPDIR && { TMPDIR: process.env.TMPDIR }) });

function expectSuccess(what: string, result: CliResult): CliResult {
  assert.equal(result.code, 0, `${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

// Rows scored over HTTP and in batch: raw timestamps as a client sends them, features as in the CSV.
const ROWS = [
  { date: '2001-01-30T07:05:00', distance: 719, origin: 'ORD', destination: 'LGA' },
  { date: '2001-01-30T18:40:00', distance: 1846, origin: 'SFO', destination: 'ORD' },
  { date: '2001-01-31T12:15:00', distance: 236, origin: 'LAX', destination: 'SFO' },
  { date: '2001-01-31T21:55:00', distance: 1075, origin: 'ATL', destination: 'DFW' },
];

test('the packed tarball installs in a new project: init, run, serve and batch predict agree on raw timestamps', { skip: npmMissing && 'npm is not on PATH, so the package cannot be packed' }, async (t) => {
  const tmp = await makeTempDir((fn) => t.after(fn), 'loom-package-');
  const project = join(tmp, 'flights-project');

  // `npm test` sets LOOM_TEST_COMPILED_CLI only when dist/ is built from the current sources (in CI by
  // `npm ci`, moments before): then packing skips `prepare`, which would build the same dist/ again
  // and swap it under the tests that run the compiled CLI meanwhile.
  const prebuilt = process.env.LOOM_TEST_COMPILED_CLI ? ['--ignore-scripts'] : [];
  const packed = expectSuccess('npm pack', await runProcess(NPM, ['pack', ...prebuilt, '--pack-destination', tmp, '--json'], { cwd: REPO, env: cleanEnv() }));
  const tarball = join(tmp, (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[])[0]!.filename);
  assert.ok(existsSync(tarball), `npm pack wrote no ${tarball}`);

  // A new project, set up as the README says: deny onnxruntime-node's CUDA download before installing.
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'flights-project', private: true, allowScripts: { 'onnxruntime-node': false, 'better-sqlite3': false } }, null, 2)}\n`);
  expectSuccess('npm install of the tarball', await runProcess(NPM, ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, env: cleanEnv() }));
  copyBetterSqliteAddon(project);
  const installed = join(project, 'node_modules', 'loom-mlops');
  assert.ok(existsSync(join(installed, 'dist', 'index.js')) && existsSync(join(installed, 'dist', 'index.d.ts')), 'the package ships compiled JavaScript with declarations');
  assert.ok(!existsSync(join(installed, 'src')), 'the package ships no TypeScript sources');

  const loom = (args: string[]) => runProcess(NPM, ['exec', '--', 'loom', ...args], { cwd: project, env: cleanEnv() });
  const version = expectSuccess('npx loom --version', await loom(['--version']));
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);

  // January 2001 flights as a CSV whose date is an ISO 8601 string, as users' exports are.
  const csv = join(project, 'data', 'flights.csv');
  mkdirSync(join(project, 'data'));
  await withDuckDB(async (db) => {
    // Flights among the busiest airports, so the schema inferred on the train split knows every airport of the eval split.
    const flights = `read_parquet(${sqlString(FLIGHTS_PARQUET)})`;
    await db.run(`COPY (
      WITH busiest AS (SELECT origin FROM ${flights} GROUP BY origin ORDER BY count(*) DESC LIMIT 12),
      january AS (
        SELECT strftime(date, '%Y-%m-%dT%H:%M:%S') AS date, distance, origin, destination, delay > 15 AS delayed FROM ${flights}
        WHERE date < TIMESTAMP '2001-02-01' AND origin IN (FROM busiest) AND destination IN (FROM busiest)
      )
      SELECT * FROM january USING SAMPLE reservoir(3000 ROWS) REPEATABLE (7) ORDER BY date
    ) TO ${sqlString(csv)} (FORMAT CSV, HEADER)`);
  });

  const init = expectSuccess('loom init', await loom(['init', '--data', 'data/flights.csv', '--label', 'delayed']));
  assert.match(init.stdout, /wrote pipeline\.ts/);
  const pipeline = readFileSync(join(project, 'pipeline.ts'), 'utf8');
  assert.match(pipeline, /from 'loom-mlops'/);
  assert.match(readFileSync(join(project, '.gitignore'), 'utf8'), /^\.loom\/$/m);
  assert.equal(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).allowScripts['onnxruntime-node'], false);

  const run = expectSuccess('loom run pipeline.ts', await loom(['run', 'pipeline.ts']));
  assert.match(run.stdout + run.stderr, /step push complete/, 'the first model is blessed and pushed');

  const online = await predictOverHttp(t, project);
  const rowsCsv = join(project, 'data', 'rows.csv');
  writeFileSync(rowsCsv, `date,distance,origin,destination\n${ROWS.map((row) => `${row.date},${row.distance},${row.origin},${row.destination}`).join('\n')}\n`);
  const output = join(project, 'scores.parquet');
  expectSuccess('loom predict', await loom(['predict', '--model', 'flights-project@champion', '--input', 'data/rows.csv', '--output', 'scores.parquet']));
  const batch = await withDuckDB(async (db) => (await db.runAndReadAll(`SELECT probability FROM read_parquet(${sqlString(output)})`)).getRowObjects());
  assert.equal(batch.length, ROWS.length);
  batch.forEach((row, i) => {
    const scored = Number(Array.isArray(row.probability) ? row.probability[0] : row.probability);
    assert.ok(Math.abs(scored - online[i]!) < 1e-6, `row ${i}: batch ${scored} but online ${online[i]}`);
  });
  assert.ok(new Set(online).size > 1, 'different rows get different probabilities');
});

/** Starts `loom serve` on the champion, posts the raw rows, returns their probabilities, stops the server. */
async function predictOverHttp(t: { after(fn: () => void): void }, project: string): Promise<number[]> {
  const server = spawn(join(project, 'node_modules', '.bin', 'loom'), ['serve', 'flights-project@champion', '--port', '0', '--workers', '1'], { cwd: project, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void server.kill('SIGKILL'));
  let stderr = '';
  server.stderr.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const found = /serving at (http:\/\/\S+)/.exec(stderr);
      if (found) resolve(found[1]!);
    };
    server.stderr.on('data', check);
    server.once('exit', (code) => reject(new Error(`loom serve exited ${code}:\n${stderr}`)));
  });
  const response = await fetch(`${url}/v2/models/flights-project/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: ROWS }) });
  const body = (await response.json()) as { predictions?: { probability: number | number[] }[] };
  assert.equal(response.status, 200, JSON.stringify(body));
  server.kill('SIGTERM');
  const predictions = body.predictions ?? [];
  assert.equal(predictions.length, ROWS.length);
  return predictions.map((p) => Number(Array.isArray(p.probability) ? p.probability[0] : p.probability));
}

/** better-sqlite3's compiled addon from this checkout, when it is the same version as the project's. */
function copyBetterSqliteAddon(project: string): void {
  const ours = join(REPO, 'node_modules', 'better-sqlite3');
  const theirs = join(project, 'node_modules', 'better-sqlite3');
  const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  if (version(ours) === version(theirs)) cpSync(join(ours, 'build'), join(theirs, 'build'), { recursive: true });
  else expectSuccess('npm rebuild better-sqlite3', spawnSyncResult(spawnSync(NPM, ['rebuild', 'better-sqlite3'], { cwd: project, env: cleanEnv(), encoding: 'utf8' })));
}

function spawnSyncResult(result: ReturnType<typeof spawnSync>): CliResult {
  return { code: result.status ?? 1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
