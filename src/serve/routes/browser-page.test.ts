import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { queryRows, sqlString, withDuckDB } from '../../data/duckdb.js';
import { launchChromium, testChromium } from '../../../test/support/chromium.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { registeredModelProject, type RegisteredModelProject } from '../../../test/support/registered-model.js';
import { buildServingModel, RAW_FEATURES } from '../../../test/support/serving-model.js';
import type { TrainParameters } from '../../train/component.js';
import { startModelServer, type ModelServer } from '../server.js';
import { batchAndBrowserPlugins } from '../server-plugins.js';

const chromiumPath = testChromium();
const OTHER_MODELS: [string, TrainParameters][] = [
  ['flights_gbdt', { algorithm: 'gbdt', numTrees: 40, numLeaves: 15 }],
  ['flights_mlp', { algorithm: 'mlp', hiddenUnits: [32, 16], epochs: 2 }],
];
let project: RegisteredModelProject;
let server: ModelServer;
let removeDir: (() => Promise<void>) | undefined;

before(async () => {
  const dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  project = await registeredModelProject(dir);
  // With a browser to test, a GBDT and an MLP over the same features are served too (version 1 each).
  const others = chromiumPath ? OTHER_MODELS : [];
  for (const [name, train] of others) {
    const fixture = await buildServingModel(dir, { artifacts: project.artifacts, train });
    const signature = JSON.parse(await readFile(join(fixture.servingModel.path, 'signature.json'), 'utf8'));
    await project.db.registry.ensureRegisteredModel(name);
    await project.db.registry.createModelVersion({ modelName: name, source: fixture.servingModel.uri, status: 'READY', signature });
  }
  server = await startModelServer({
    port: 0,
    models: ['flights', ...others.map(([name]) => `${name}@1`)],
    registry: project.db.registry,
    artifacts: project.artifacts,
    watchIntervalMs: 0,
    plugins: batchAndBrowserPlugins({ metadata: project.db.metadata, artifacts: project.artifacts, defaultModel: 'flights' }),
  });
});

after(async () => {
  await server?.close();
  await project?.db.close();
  await removeDir?.();
});

test('the page, onnxruntime-web and the model graph are served from the model server', async () => {
  const page = await fetch(`${server.url}/ui/score/`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<meta name="loom-default-model" content="flights">/);
  assert.match(html, /src="\/ui\/ort\/ort\.wasm\.min\.js"/);
  const wasm = await fetch(`${server.url}/ui/ort/ort-wasm-simd-threaded.wasm`);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.deepEqual([...new Uint8Array(await wasm.arrayBuffer()).subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d]);
  const graph = await fetch(`${server.url}/ui/models/flights/model.onnx`);
  assert.equal(graph.headers.get('x-model-version'), '1');
  const onDisk = await readFile(join(project.fixture.servingModel.path, 'model.onnx'));
  assert.ok(Buffer.from(await graph.arrayBuffer()).equals(onDisk), 'the page gets the served graph byte for byte');
  const byVersion = await fetch(`${server.url}/ui/models/flights/versions/1/model.onnx`);
  assert.ok(Buffer.from(await byVersion.arrayBuffer()).equals(onDisk));
  assert.equal((await fetch(`${server.url}/ui/models/flights/versions/9/model.onnx`)).status, 404);
  assert.equal((await fetch(`${server.url}/ui/ort/package.json`)).status, 404);
  assert.equal((await fetch(`${server.url}/ui/models/nosuch/model.onnx`)).status, 404);
  // Nothing was precomputed in this project: key lookups say so, they do not guess.
  const lookup = await fetch(`${server.url}/v1/predictions/flights/SFO%7CLAX%7C8%7C1%7C300`);
  assert.equal(lookup.status, 404);
  assert.match(((await lookup.json()) as { fix: string }).fix, /loom predict --model flights/);
});

const skipWithoutChromium = { skip: chromiumPath ? false : 'LOOM_TEST_CHROMIUM is not set; run `npm test` (it installs Debian chromium)' };

/** 200 eval rows, with the raw features as a client sends them. */
async function evalRows(): Promise<Record<string, unknown>[]> {
  const evalPath = join(project.fixture.examples.path, 'eval', 'data.parquet');
  const rows = await withDuckDB(async (db) =>
    queryRows(db, `SELECT hour::INTEGER AS hour, weekday::INTEGER AS weekday, distance::INTEGER AS distance, origin, destination
      FROM read_parquet(${sqlString(evalPath)}) LIMIT 200`),
  );
  assert.equal(rows.length, 200);
  return rows;
}

/** Opens the page on `model`, scores `rows` in it, and scores them on the server (KServe V2); returns both `probability` outputs. */
async function scoreBothWays(page: Page, model: string, rows: Record<string, unknown>[]): Promise<{ browser: number[]; server: number[] }> {
  await page.goto(`${server.url}/ui/score/?model=${model}`);
  await page.waitForSelector('body[data-ready]');
  assert.equal(await page.getAttribute('body', 'data-ready'), 'true', (await page.textContent('#status')) ?? '');
  const inBrowser = await page.evaluate(
    (records) => (globalThis as unknown as { loomScore(r: unknown[]): Promise<{ version: number; outputs: Record<string, number[]> }> }).loomScore(records),
    rows as unknown[],
  );
  assert.equal(inBrowser.version, 1);
  const response = await fetch(`${server.url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: RAW_FEATURES.map((name) => ({
        name,
        shape: [rows.length, 1],
        datatype: name === 'origin' || name === 'destination' ? 'BYTES' : 'INT64',
        data: rows.map((row) => row[name]),
      })),
    }),
  });
  assert.equal(response.status, 200);
  const served = ((await response.json()) as { outputs: { name: string; data: number[] }[] }).outputs.find((output) => output.name === 'probability')!;
  return { browser: inBrowser.outputs.probability!, server: served.data };
}

/**
 * Exact equality, bit for bit: the exporters compute in float64 and round to float32 once
 * (src/onnx/float64.ts), so onnxruntime-web's WebAssembly kernels and the server's native
 * ones (FMA, other summation orders, other Sigmoid approximations) give the same float32.
 * Both sides travel as JSON numbers, which round-trip a float32 exactly.
 */
function assertBitIdentical(model: string, server: number[], browser: number[]): void {
  assert.equal(browser.length, server.length);
  const differing = server.filter((value, i) => float32Bits(value) !== float32Bits(browser[i]!)).length;
  assert.equal(differing, 0, `${model}: ${differing} of ${server.length} probabilities differ between the browser and the server (largest ${Math.max(...server.map((value, i) => float32Ulps(value, browser[i]!)))} float32 ULPs)`);
  assert.ok(new Set(server).size > 10, 'the rows score differently, so equality means something');
}

test('in Chromium, the page scores real flights exactly as the server does (every float32 bit)', skipWithoutChromium, async (t) => {
  const browser = await launchChromium(chromiumPath!);
  t.after(() => browser.close());
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  const rows = await evalRows();
  const scored = await scoreBothWays(page, 'flights', rows);
  assertBitIdentical('flights', scored.server, scored.browser);

  // The form scores one flight the same way.
  const first = rows[0]!;
  for (const name of RAW_FEATURES) await page.fill(`#fields input[name="${name}"]`, String(first[name]));
  await page.click('#single button[type="submit"]');
  await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document.getElementById('single-result')?.textContent !== '');
  assert.equal(await page.textContent('#single-result'), `probability = ${scored.browser[0]}`);

  // Nothing came from anywhere but this server.
  assert.deepEqual(requested.filter((url) => !url.startsWith(server.url)), []);
});

test('in Chromium, a GBDT and an MLP score exactly as the server does too', skipWithoutChromium, async (t) => {
  const browser = await launchChromium(chromiumPath!);
  t.after(() => browser.close());
  const page = await browser.newPage();
  const rows = await evalRows();
  for (const [model] of OTHER_MODELS) {
    const scored = await scoreBothWays(page, model, rows);
    assertBitIdentical(model, scored.server, scored.browser);
  }
});

function float32Bits(value: number): number {
  return new Uint32Array(new Float32Array([value]).buffer)[0]!;
}

/** How many float32 steps apart two float32 values are (both finite, same sign here: probabilities); for the failure message. */
function float32Ulps(a: number, b: number): number {
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  return Math.abs(bits[0]! - bits[1]!);
}
