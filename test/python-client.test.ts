// The Python client (python/, `loom_client`) under its own pytest suite, against a real
// `loom server` that requires a token and a real `loom serve`, on a small real project: the
// flights pipeline run once on a slice, a prediction log of real flights rows, and the drift
// figures `loom monitor drift` recorded from it. Exit 0 from pytest is the assertion; its
// output is shown when it fails.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { queryRows, readSource, withDuckDB } from '../src/data/duckdb.js';
import { ParquetPredictionSink } from '../src/serve/prediction-sinks.js';
import { runLoom, runProcess } from './support/cli.js';
import { openTestPlatform } from './support/databases.js';
import { makeTempDir, writeFlightsSlice } from './support/flights.js';
import { testPython } from './support/python.js';
import { startLoom } from './security/support.js';

const EXAMPLE = fileURLToPath(new URL('../examples/flights/pipeline.ts', import.meta.url));
const PYTHON_DIR = fileURLToPath(new URL('../python', import.meta.url));
const T0 = Date.UTC(2026, 0, 5);

/** A prediction log of `n` real flights rows of March (after the training months) for the served flights model. */
async function writePredictionLog(home: string, source: string, n: number): Promise<void> {
  const rows = await withDuckDB((duck) => queryRows(duck, `SELECT strftime(date, '%Y-%m-%dT%H:%M:%S') AS date, distance, origin, destination FROM ${readSource(source)} ORDER BY date DESC LIMIT ${n}`));
  const platform = await openTestPlatform(home);
  const sink = new ParquetPredictionSink(platform.layout.predictions);
  try {
    await sink.write(
      rows.map((r, i) => ({
        requestId: `r${i}`,
        modelName: 'flights',
        modelVersion: 1,
        role: 'primary' as const,
        protocol: 'v2',
        features: JSON.stringify({ date: r.date, distance: Number(r.distance), origin: r.origin, destination: r.destination }),
        outputs: JSON.stringify({ probability: 0.2 }),
        latencyMs: 0.5,
        loggedAt: T0 + i * 60_000,
      })),
    );
  } finally {
    await sink.close();
    await platform.close();
  }
}

test('the Python client passes its pytest suite against real loom server (with a token) and loom serve', async (t) => {
  const python = testPython();
  if (!python) return t.skip('LOOM_TEST_PYTHON is not set (run with npm test)');
  const dir = await makeTempDir((fn) => t.after(fn), 'loom-pyclient-');
  const home = join(dir, '.loom');
  const source = join(dir, 'flights.csv');
  await writeFlightsSlice(source, { months: [1, 2, 3], every: 60, format: 'csv' });
  const pipelineFile = join(dir, 'pipeline.ts');
  await writeFile(pipelineFile, `import { flightsPipeline } from ${JSON.stringify(EXAMPLE)};\nexport default flightsPipeline({ source: ${JSON.stringify(source)}, schemaPath: ${JSON.stringify(join(dir, 'flights.schema.json'))}, epochs: 1 });\n`);
  const run = await runLoom(['run', pipelineFile, '--json'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const runId = (JSON.parse(run.stdout) as { runId: string }).runId;

  await writePredictionLog(home, source, 300);
  const platform = await openTestPlatform(home);
  const [token, editorToken] = await Promise.all([
    platform.tokens.createToken({ subject: 'data-scientist', role: 'viewer', createdBy: 'python-client-test' }),
    // For the re-run, which a viewer may not start.
    platform.tokens.createToken({ subject: 'ml-engineer', role: 'editor', createdBy: 'python-client-test' }),
  ]).finally(() => platform.close());

  const [monitored, server, serve] = await Promise.all([
    runLoom(['monitor', 'drift', 'flights@champion', '--window', 'requests:100', '--json'], { cwd: dir }),
    startLoom(['server', '--port', '0', '--require-auth'], { home, t }),
    startLoom(['serve', '--port', '0', '--workers', '1', '--no-prediction-log', '--watch-interval', '0'], { home, t }),
  ]);
  assert.equal(monitored.code, 0, monitored.stderr);
  const monitorJson = join(dir, 'monitor-drift.json');
  await writeFile(monitorJson, monitored.stdout);

  const pytest = await runProcess(python, ['-m', 'pytest', join(PYTHON_DIR, 'tests'), '-q', '-p', 'no:cacheprovider'], {
    cwd: dir,
    env: {
      ...process.env,
      // This checkout's client first, whatever the venv holds.
      PYTHONPATH: [join(PYTHON_DIR, 'src'), process.env.PYTHONPATH].filter(Boolean).join(':'),
      LOOM_TOKEN: '',
      LOOM_TEST_SERVER_URL: server.url,
      LOOM_TEST_TOKEN: token.secret,
      LOOM_TEST_EDITOR_TOKEN: editorToken.secret,
      LOOM_TEST_SERVE_URL: serve.url,
      LOOM_TEST_RUN_ID: runId,
      LOOM_TEST_SOURCE: source,
      LOOM_TEST_MONITOR_JSON: monitorJson,
      NO_PROXY: '127.0.0.1',
      no_proxy: '127.0.0.1',
    },
  });
  assert.equal(pytest.code, 0, `pytest failed:\n${pytest.stdout}\n${pytest.stderr}`);
  assert.match(pytest.stdout, /\d+ passed/);
  assert.doesNotMatch(pytest.stdout, /skipped|failed|error/i);
  t.diagnostic(`pytest: ${pytest.stdout.trim().split('\n').at(-1)}`);
  server.child.kill('SIGTERM');
  serve.child.kill('SIGTERM');
  await Promise.all([server.exited, serve.exited]);
});
