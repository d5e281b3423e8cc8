import assert from 'node:assert/strict';
import { readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../platform/config.js';
import { ParquetPredictionSink, PostgresPredictionSink } from '../serve/prediction-sinks.js';
import { openFreshPostgres, postgresTestUrl } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { flightsLogRows } from '../../test/support/prediction-log.js';
import { runLoom } from '../../test/support/cli.js';
import { profilePath } from './log-profile-write.js';
import { applyRetention, scheduleRetention, type RetentionResult } from './retention.js';

const DAY = 86_400_000;

test('Parquet retention: files older than the age go, then the oldest until the size fits', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const rows = await flightsLogRows({ months: [1], every: 2000, start: 0, stepMs: 1000 });
  const sink = new ParquetPredictionSink(dir);
  for (let i = 0; i < 4; i++) {
    await sink.write(rows.slice(i * 50, (i + 1) * 50));
    await sink.rotate();
  }
  await sink.close();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(dir, f));
  assert.equal(files.length, 4);
  const now = Date.now();
  // Finished 10, 5, 2 and 0 days ago.
  for (const [i, days] of [10, 5, 2, 0].entries()) await utimes(files[i]!, (now - days * DAY) / 1000, (now - days * DAY) / 1000);
  const first = await applyRetention({ kind: 'parquet', dir }, { maxAgeMs: 7 * DAY }, now);
  assert.deepEqual(first.removedFiles, [files[0]]);
  // Each file's bytes with its profile's: the small files an idle server finishes have profiles as big as they are.
  const sizes = await Promise.all(files.slice(1).map(async (f) => (await stat(f)).size + (await stat(profilePath(f))).size));
  assert.equal(first.bytes, sizes.reduce((a, b) => a + b, 0));
  // A budget that holds the three files left without their profiles: with them, the newest only.
  const budget = (await Promise.all(files.slice(1).map(async (f) => (await stat(f)).size))).reduce((a, b) => a + b, 0);
  assert.ok(sizes[2]! <= budget && sizes[1]! + sizes[2]! > budget, 'the budget holds one file with its profile, not two');
  const second = await applyRetention({ kind: 'parquet', dir }, { maxBytes: budget }, now);
  assert.deepEqual(second.removedFiles, [files[1], files[2]]);
  assert.deepEqual((await readdir(dir)).sort().map((f) => join(dir, f)), [files[3], profilePath(files[3]!)], 'each file went with its profile');
  assert.deepEqual((await applyRetention({ kind: 'parquet', dir }, {}, now)).removedFiles, [], 'no policy keeps everything');
  await assert.rejects(applyRetention({ kind: 'parquet', dir }, { maxBytes: -1 }), { code: 'INVALID_ARGUMENT' });
});

test('retention comes from loom.config.json, sizes and days converted; a bad size names the field', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'loom.config.json'), JSON.stringify({ monitor: { retention: { maxAgeDays: 30, maxSize: '1.5GiB' } } }));
  assert.deepEqual(loadConfig({ cwd: dir, env: {} }).monitor.retention, { maxAgeMs: 30 * DAY, maxBytes: 1.5 * 2 ** 30 });
  assert.deepEqual(loadConfig({ cwd: join(dir, '..'), env: {} }).monitor.retention, {});
  await writeFile(join(dir, 'loom.config.json'), JSON.stringify({ monitor: { retention: { maxSize: 'lots' } } }));
  assert.throws(() => loadConfig({ cwd: dir, env: {} }), (error: Error & { code?: string }) => error.code === 'INVALID_ARGUMENT' && /maxSize/.test(error.message));
});

/** Four finished log files under `dir`, finished 10, 5, 2 and 0 days ago; their paths, oldest first. */
async function agedLogFiles(dir: string, now: number): Promise<string[]> {
  const rows = await flightsLogRows({ months: [1], every: 2000, start: 0, stepMs: 1000 });
  const sink = new ParquetPredictionSink(dir);
  for (let i = 0; i < 4; i++) {
    await sink.write(rows.slice(i * 50, (i + 1) * 50));
    await sink.rotate();
  }
  await sink.close();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(dir, f));
  for (const [i, days] of [10, 5, 2, 0].entries()) await utimes(files[i]!, (now - days * DAY) / 1000, (now - days * DAY) / 1000);
  return files;
}

test('Parquet retention removes the profiles whose log file was deleted by hand, and only those, and counts them', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const now = Date.now();
  const files = await agedLogFiles(dir, now);
  // The newest and an old file deleted by hand, their profiles left behind; a profile still being written (a temporary name) has no file either.
  await rm(files[3]!);
  await rm(files[1]!);
  const writing = `${profilePath(files[3]!)}.tmp-123`;
  await writeFile(writing, 'half a profile');
  const first = await applyRetention({ kind: 'parquet', dir }, {}, now);
  assert.deepEqual(first.removedOrphanProfiles, [profilePath(files[1]!), profilePath(files[3]!)]);
  assert.deepEqual(first.removedFiles, [], 'no policy removes no log file');
  const kept = [files[0]!, files[2]!];
  assert.deepEqual((await readdir(dir)).sort().map((f) => join(dir, f)), [...kept.flatMap((f) => [f, profilePath(f)]), writing].sort(), 'every profile whose file exists stays');
  const sizes = await Promise.all(kept.map(async (f) => (await stat(f)).size + (await stat(profilePath(f))).size));
  assert.equal(first.bytes, sizes[0]! + sizes[1]!, 'the orphans count in no size');
  // With a policy: the old file goes with its profile as before, and no orphan is left to count.
  const second = await applyRetention({ kind: 'parquet', dir }, { maxAgeMs: 7 * DAY }, now);
  assert.deepEqual([second.removedFiles, second.removedOrphanProfiles], [[files[0]], []]);
});

test('a scheduled retention applies the policy at once and again at every pass; a failed pass is reported and the next one still runs', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  // The schedule's timer does not hold the process open (a server's sockets do); this test's does.
  const keepAlive = setInterval(() => {}, 1000);
  t.after(() => clearInterval(keepAlive));
  const files = await agedLogFiles(dir, Date.now());
  const passes: RetentionResult[] = [];
  const errors: unknown[] = [];
  let next: () => void = () => {};
  const passed = () => new Promise<void>((resolve) => (next = resolve));
  const first = passed();
  const schedule = scheduleRetention({ kind: 'parquet', dir }, { maxAgeMs: 7 * DAY, everyMs: 20 }, { onPass: (r) => (passes.push(r), next()), onError: (e) => errors.push(e) });
  try {
    await first;
    assert.deepEqual(passes[0]!.removedFiles, [files[0]], 'the first pass runs when the schedule starts');
    // A file that has aged past the limit since is removed by a later pass, without a restart.
    await utimes(files[1]!, (Date.now() - 8 * DAY) / 1000, (Date.now() - 8 * DAY) / 1000);
    while (!passes.some((p) => p.removedFiles.includes(files[1]!))) await passed();
    assert.deepEqual((await readdir(dir)).sort().map((f) => join(dir, f)), files.slice(2).flatMap((f) => [f, profilePath(f)]));
  } finally {
    await schedule.stop();
  }
  assert.deepEqual(errors, []);
  // A PostgreSQL log that cannot be reached: each pass fails into onError, and the schedule keeps going.
  const failures: unknown[] = [];
  let failed: () => void = () => {};
  const unreachable = scheduleRetention({ kind: 'postgres', url: 'postgres://loom@127.0.0.1:1/none' }, { maxAgeMs: DAY, everyMs: 20 }, { onError: (e) => (failures.push(e), failures.length >= 2 && failed()) });
  await new Promise<void>((resolve) => (failed = resolve));
  await unreachable.stop();
  assert.ok(failures.length >= 2, 'a pass after a failed one still runs');
});

test('loom monitor retention applies the config policy now, and says how to set one when there is none', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { mkdir, writeFile } = await import('node:fs/promises');
  const predictions = join(dir, '.loom', 'predictions');
  await mkdir(predictions, { recursive: true });
  const files = await agedLogFiles(predictions, Date.now());
  const none = await runLoom(['monitor', 'retention'], { cwd: dir });
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no retention policy/);
  assert.match(none.stderr, /maxAgeDays/, 'the fix shows how to set a policy');
  await writeFile(join(dir, 'loom.config.json'), JSON.stringify({ monitor: { retention: { maxAgeDays: 3 } } }));
  const applied = await runLoom(['monitor', 'retention', '--json'], { cwd: dir });
  assert.equal(applied.code, 0, applied.stderr);
  assert.deepEqual(JSON.parse(applied.stdout).removedFiles, files.slice(0, 2));
  assert.deepEqual((await readdir(predictions)).sort().map((f) => join(predictions, f)), files.slice(2).flatMap((f) => [f, profilePath(f)]));
});

const url = postgresTestUrl('prediction log retention on PostgreSQL');
if (url) {
  test('PostgreSQL retention: rows older than the age are deleted, then the oldest past the size', async () => {
    const db = await openFreshPostgres(url);
    const schema = db.config.database.schema!;
    try {
      const now = Date.now();
      const rows = await flightsLogRows({ months: [1], every: 500, start: now - 10 * DAY, stepMs: 1000 });
      const sink = new PostgresPredictionSink({ url, schema });
      // Half the rows 10 days old, half from today.
      const half = Math.floor(rows.length / 2);
      await sink.write([...rows.slice(0, half), ...rows.slice(half).map((r, i) => ({ ...r, loggedAt: now - 1000 * i }))]);
      await sink.close();
      const byAge = await applyRetention({ kind: 'postgres', url, schema }, { maxAgeMs: 7 * DAY }, now);
      assert.equal(byAge.removedRows, half);
      const bySize = await applyRetention({ kind: 'postgres', url, schema }, { maxBytes: Math.floor(byAge.bytes / 4) }, now);
      assert.ok(bySize.removedRows! > 0);
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        const left = await client.query('SELECT count(*)::int AS n, min(logged_at)::bigint AS oldest FROM prediction_log');
        assert.equal(left.rows[0].n, rows.length - half - bySize.removedRows!);
        // The newest rows are the ones kept: today's row i was logged at now − i s.
        assert.equal(Number(left.rows[0].oldest), now - 1000 * (left.rows[0].n - 1), 'the oldest rows went first');
      } finally {
        await client.end();
      }
    } finally {
      await db.close();
    }
  });
}
