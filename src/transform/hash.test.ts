import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { toTensor } from '../onnx/tensors.js';
import { fitTransform } from './analyzers.js';
import { categoricalColumn, crossColumn, type CategoricalFeature, type CrossFeature, type FittedTransform } from './fitted.js';
import { buildTransformGraph, transformInputs } from './graph.js';
import { crossBucket, hashBucket, hashPair, hashValue, murmur3 } from './hash.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

test('MurmurHash3 x86_32 matches its published test vectors (every tail length, seeds, UTF-8)', () => {
  assert.equal(murmur3(utf8('')), 0);
  assert.equal(murmur3(utf8(''), 1), 0x514e28b7);
  assert.equal(murmur3(utf8(''), 0xffffffff), 0x81f16f39);
  assert.equal(murmur3(new Uint8Array([0, 0, 0, 0])), 0x2362f9de);
  assert.equal(murmur3(new Uint8Array([0x21, 0x43, 0x65, 0x87])), 0xf55b516b);
  assert.equal(murmur3(new Uint8Array([0x21, 0x43, 0x65])), 0x7e4a8634);
  assert.equal(murmur3(new Uint8Array([0x21, 0x43])), 0xa0f7b07a);
  assert.equal(murmur3(new Uint8Array([0x21])), 0x72661cf4);
  assert.equal(murmur3(new Uint8Array([0x21, 0x43, 0x65, 0x87]), 0x5082edee), 0x2362f9de);
  assert.equal(murmur3(utf8('hello')), 0x248bfa47);
  assert.equal(murmur3(utf8('The quick brown fox jumps over the lazy dog')), 0x2e4ff723);
  // What onnxruntime's MurmurHash3 op returned (signed) for these strings, measured once.
  assert.equal(hashValue('Zürich') | 0, 694770001);
  assert.equal(hashValue('日本') | 0, -992347838);
  assert.equal(hashValue(-1) | 0, 1908024458, 'integers hash their decimal text');
  assert.equal(hashValue(12n), hashValue('12'));
  assert.equal(hashBucket('hello', 7), 0x248bfa47 % 7);
  assert.notEqual(hashPair('ORD', 'SFO'), hashPair('SFO', 'ORD'), 'a pair is ordered');
  assert.equal(crossBucket('ORD', 'SFO', 64), hashPair('ORD', 'SFO') % 64);
});

type Row = Record<string, unknown>;
type Runtime = typeof ort | typeof ortWeb;

async function run(runtime: Runtime, fitted: FittedTransform, rows: Row[]): Promise<Float32Array> {
  if (runtime === ortWeb) ortWeb.env.wasm.numThreads = 1;
  const session = await runtime.InferenceSession.create(buildTransformGraph(fitted));
  try {
    const feeds: Record<string, ort.Tensor | ortWeb.Tensor> = {};
    for (const spec of transformInputs(fitted)) {
      const tensor = toTensor(spec, rows.map((row) => row[spec.name] ?? null));
      feeds[spec.name] = runtime === ortWeb ? new ortWeb.Tensor(tensor.type as 'string', tensor.data as string[], tensor.dims) : tensor;
    }
    return (await (session as ort.InferenceSession).run(feeds as Record<string, ort.Tensor>)).features.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** A slice of real flights with the label, as the transform step reads it. */
async function writeExamples(dir: string, name: string, months: number[], every: number): Promise<string> {
  const raw = join(dir, `${name}-raw.parquet`);
  await writeFlightsSlice(raw, { months, every });
  const path = join(dir, `${name}.parquet`);
  await withDuckDB((db) => db.run(`COPY (SELECT origin, destination, distance, delay > 15 AS delayed FROM read_parquet(${sqlString(raw)})) TO ${sqlString(path)} (FORMAT PARQUET)`));
  return path;
}

test('unseen airports and distances: TypeScript, onnxruntime-node and onnxruntime-web (WebAssembly) put every row in the same hashed bucket', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  // Fit on a thin January slice; score real flights of February to June, many from airports (and distances) January never showed.
  const train = await writeExamples(dir, 'train', [1], 3000);
  const later = await writeExamples(dir, 'later', [2, 3, 4, 5, 6], 2000);
  const fitted = await fitTransform(train, {
    labelColumn: 'delayed',
    features: ['origin', 'destination', 'distance'],
    overrides: {
      origin: { analyzer: 'vocabulary', topK: 20, numOovBuckets: 16 },
      destination: { analyzer: 'hash', buckets: 32 },
      distance: { analyzer: 'hash', buckets: 64 },
    },
    crosses: [
      { features: ['origin', 'destination'], topK: 30, numOovBuckets: 8 },
      { features: ['distance', 'origin'], buckets: 128 },
    ],
  });
  const seen = await withDuckDB(async (db) => {
    const result = await db.runAndReadAll(`SELECT DISTINCT origin AS v FROM read_parquet(${sqlString(train)}) UNION SELECT DISTINCT destination FROM read_parquet(${sqlString(train)})`);
    return new Set(result.getRowObjects().map((row) => String(row.v)));
  });
  const rows: Row[] = await withDuckDB(async (db) => (await db.runAndReadAll(`SELECT origin, destination, distance FROM read_parquet(${sqlString(later)})`)).getRowObjects());
  // Edited rows: airports that exist nowhere, a distance out of range, missing values.
  rows.push(
    { origin: 'NOT_AN_AIRPORT', destination: 'NOWHERE', distance: 99_999n },
    { origin: 'Zürich', destination: 'ORD', distance: -1n },
    { origin: null, destination: null, distance: null },
    { origin: 'ORD', destination: '', distance: 2n ** 60n },
  );
  const unseenRows = rows.filter((row) => typeof row.origin === 'string' && row.origin !== '' && !seen.has(row.origin));
  assert.ok(unseenRows.length > 50, `${unseenRows.length} rows come from an airport the training split never had`);

  const [node, web] = [await run(ort, fitted, rows), await run(ortWeb, fitted, rows)];
  const bits = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);
  assert.deepEqual(bits(web), bits(node), 'onnxruntime-web computes the same features bit for bit');

  const [origin, destination, distance] = fitted.features as CategoricalFeature[];
  const [route, distanceOrigin] = fitted.features.slice(3) as CrossFeature[];
  const expected = (row: Row): number[] => {
    const [o, d, km] = [row.origin, row.destination, row.distance] as [string | null, string | null, bigint | null];
    return [categoricalColumn(origin, o), categoricalColumn(destination, d), categoricalColumn(distance, km), crossColumn(route, o, d), crossColumn(distanceOrigin, km, o)];
  };
  const unseen = new Set(unseenRows);
  const unseenOriginColumns = new Set<number>();
  rows.forEach((row, i) => {
    let offset = 0;
    const hotColumns = fitted.features.map((feature) => {
      const width = feature.outputs.length;
      const columns = Array.from({ length: width }, (_, k) => k).filter((k) => node[i * fitted.outputWidth + offset + k] === 1);
      offset += width;
      assert.equal(columns.length, 1, `row ${i}: one hot column of ${feature.name}`);
      return columns[0];
    });
    assert.deepEqual(hotColumns, expected(row), `row ${i}: ${JSON.stringify(row, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    if (unseen.has(row)) unseenOriginColumns.add(hotColumns[0]);
  });
  // Not all in bucket 0, as when buckets were assigned at fit time: unseen airports spread over the OOV buckets.
  assert.ok(unseenOriginColumns.size >= 8, `unseen origins land in ${unseenOriginColumns.size} different OOV buckets`);
  assert.ok([...unseenOriginColumns].every((column) => column >= origin.vocabulary.length));
});
