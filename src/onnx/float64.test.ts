/**
 * The exported models give the same float32 bits in onnxruntime-node (the server, batch
 * scoring, evaluation) and onnxruntime-web (the browser's WebAssembly build, run here in
 * Node), on real flights rows through the whole served graph. The browser itself is
 * checked in src/serve/routes/browser-page.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { exportLogisticRegression, METADATA_FEATURE_NAMES } from '../train/export.js';
import { trainGbdt } from '../train/gbdt/boost.js';
import { exportGbdt } from '../train/gbdt/export.js';
import { exportMlp } from '../train/mlp/export.js';
import { trainMlp } from '../train/mlp/mlp.js';
import { makeTempDir } from '../../test/support/flights.js';
import { buildServingModel, RAW_FEATURES, type ServingModelFixture } from '../../test/support/serving-model.js';
import type { TrainParameters } from '../train/component.js';
import { readMetadata, readSignature } from './inspect.js';
import { toTensor } from './tensors.js';

type Feeds = Record<string, ortNode.Tensor>;

let dir: string;
let removeDir: (() => Promise<void>) | undefined;
let logistic: ServingModelFixture;
let rawFeeds: Feeds;

before(async () => {
  dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  logistic = await buildServingModel(dir);
  const rows = await withDuckDB((db) =>
    queryRows(db, `SELECT ${RAW_FEATURES.join(', ')} FROM read_parquet(${sqlString(join(logistic.examples.path, 'eval', 'data.parquet'))})`),
  );
  const signature = readSignature(await servedGraph(logistic));
  rawFeeds = Object.fromEntries(signature.inputs.map((spec) => [spec.name, toTensor(spec, rows.map((row) => row[spec.name]))]));
});

after(async () => {
  await removeDir?.();
});

/** The graph's outputs in both runtimes: onnxruntime-node as the server opens it (one thread) and with its default threads, and onnxruntime-web. */
async function runEverywhere(graph: Uint8Array, feeds: Feeds): Promise<{ server: Float32Array; serverThreaded: Float32Array; web: Float32Array }> {
  const server = await ortNode.InferenceSession.create(graph, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const threaded = await ortNode.InferenceSession.create(graph);
  ortWeb.env.wasm.numThreads = 1; // as the page runs it (threads need cross-origin isolation)
  const web = await ortWeb.InferenceSession.create(graph, { executionProviders: ['wasm'] });
  try {
    const webFeeds = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, new ortWeb.Tensor(t.type as 'float32', t.data as Float32Array, t.dims)]));
    const output = (results: Record<string, { data: unknown }>) => (results.probability ?? Object.values(results)[0]!).data as Float32Array;
    return {
      server: output(await server.run(feeds)),
      serverThreaded: output(await threaded.run(feeds)),
      web: output(await web.run(webFeeds)),
    };
  } finally {
    await Promise.all([server.release(), threaded.release(), web.release()]);
  }
}

/** Asserts every value has the same float32 bits, and that the values vary (so equality means something). */
function assertBitIdentical(name: string, expected: Float32Array, actual: Float32Array): void {
  assert.equal(actual.length, expected.length, name);
  const a = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const b = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const differing = a.reduce((count, bits, i) => count + (bits === b[i] ? 0 : 1), 0);
  assert.equal(differing, 0, `${name}: ${differing} of ${a.length} values differ in their float32 bits`);
  assert.ok(new Set(expected).size > 20, `${name}: the rows score differently (so equality means something)`);
}

async function servedGraph(fixture: ServingModelFixture): Promise<Uint8Array> {
  return readFile(join(fixture.servingModel.path, 'model.onnx'));
}

async function assertSameEverywhere(name: string, graph: Uint8Array, feeds: Feeds): Promise<void> {
  const { server, serverThreaded, web } = await runEverywhere(graph, feeds);
  assertBitIdentical(`${name}: onnxruntime-web vs the server`, server, web);
  assertBitIdentical(`${name}: onnxruntime-node with default threads vs the server`, server, serverThreaded);
}

const trained: [string, TrainParameters][] = [
  ['gbdt', { algorithm: 'gbdt', numTrees: 40, numLeaves: 15 }],
  ['mlp', { algorithm: 'mlp', hiddenUnits: [32, 16], epochs: 2 }],
];

test('logistic regression: the served graph gives the same bits in onnxruntime-node and onnxruntime-web', async () => {
  await assertSameEverywhere('logistic', await servedGraph(logistic), rawFeeds);
});

for (const [name, train] of trained) {
  test(`${name}: the served graph gives the same bits in onnxruntime-node and onnxruntime-web`, async () => {
    const fixture = await buildServingModel(dir, { train, artifacts: logistic.artifacts });
    await assertSameEverywhere(name, await servedGraph(fixture), rawFeeds);
  });
}

test('multiclass and regression exports (Softmax over linear, tree and MLP scores; tree and MLP regression) give the same bits in both runtimes', async () => {
  // The transformed features of real rows: the served transform part, run on its own.
  const transform = await readFile(join(logistic.transformGraph.path, 'transform.onnx'));
  const session = await ortNode.InferenceSession.create(transform);
  const transformed = (await session.run(rawFeeds)).features!;
  await session.release();
  const [rows, width] = transformed.dims as [number, number];
  const features = transformed.data as Float32Array;
  const featureFeeds = { features: new ortNode.Tensor('float32', features, [rows, width]) };

  // Three classes: weights spread over [-1, 1] so every class's score moves with the features.
  const weights = Float64Array.from({ length: width * 3 }, (_, i) => Math.sin(i * 12.9898) * 0.8);
  await assertSameEverywhere('logistic multiclass', exportLogisticRegression({ weights, bias: [0.1, -0.3, 0.2] }), featureFeeds);

  // Three classes: every third row, else whether the first one-hot column (an hour) is set.
  const labels = Float32Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? 2 : features[i * width]! > 0 ? 1 : 0));
  const gbdt = await trainGbdt({ features, labels, width }, { objective: 'multiclass', numClasses: 3, numTrees: 20, numLeaves: 7 });
  await assertSameEverywhere('gbdt multiclass', exportGbdt(gbdt), featureFeeds);
  const mlp = await trainMlp({ features, labels, width }, { objective: 'multiclass', numClasses: 3, hiddenUnits: [16], epochs: 1 });
  await assertSameEverywhere('mlp multiclass', exportMlp(mlp), featureFeeds);

  // Regression: a target from a real column, the flight's (scaled) distance, plus a per-row offset.
  const column = (JSON.parse(readMetadata(await servedGraph(logistic))[METADATA_FEATURE_NAMES]!) as string[]).indexOf('distance');
  assert.ok(column >= 0);
  const distance = Float32Array.from({ length: rows }, (_, i) => features[i * width + column]! * 3 + (i % 7));
  const gbdtRegression = await trainGbdt({ features, labels: distance, width }, { objective: 'regression', numTrees: 20, numLeaves: 7 });
  await assertSameEverywhere('gbdt regression', exportGbdt(gbdtRegression), featureFeeds);
  const mlpRegression = await trainMlp({ features, labels: distance, width }, { objective: 'regression', hiddenUnits: [16], epochs: 1 });
  await assertSameEverywhere('mlp regression', exportMlp(mlpRegression), featureFeeds);
});
