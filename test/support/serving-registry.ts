/**
 * A registry with several real versions of the flights model, for serving tests: two
 * trained models (different epochs, so their answers differ) registered as versions 1
 * and 2 of `flights` with `champion` on 1, and a version 3 whose model.onnx is corrupt.
 *
 * Usage: `const reg = await buildServingRegistry(await makeTempDir(t.after)); ... await reg.close();`
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { sqlString, withDuckDB } from '../../src/data/duckdb.js';
import { toTensor } from '../../src/onnx/tensors.js';
import type { LoomDatabase } from '../../src/pipeline/stores.js';
import type { ModelSignature } from '../../src/registry/types.js';
import type { LocalArtifactStore } from '../../src/store/local-artifact-store.js';
import { openTestPlatform } from './databases.js';
import { buildServingModel, type ServingModelFixture } from './serving-model.js';

export interface ServingRegistry {
  dir: string;
  db: LoomDatabase;
  artifacts: LocalArtifactStore;
  signature: ModelSignature;
  fixture: ServingModelFixture;
  /** Eval rows, raw features only. */
  rows: Record<string, string | number>[];
  /** Version numbers: two good ones and a corrupt one. */
  good: [number, number];
  corrupt: number;
  close(): Promise<void>;
}

const WHO = { actor: 'test', reason: 'serving test' };

export async function buildServingRegistry(dir: string, options: { db?: LoomDatabase } = {}): Promise<ServingRegistry> {
  const fixture = await buildServingModel(dir);
  const second = await buildServingModel(dir, { artifacts: fixture.artifacts, epochs: 1, every: 400 });
  const db = options.db ?? (await openTestPlatform(dir));
  const signature = JSON.parse(await readFile(join(fixture.servingModel.path, 'signature.json'), 'utf8')) as ModelSignature;
  await db.registry.ensureRegisteredModel('flights');
  const register = (source: string) => db.registry.createModelVersion({ modelName: 'flights', source, status: 'READY', signature });
  const v1 = await register(fixture.servingModel.uri);
  const v2 = await register(second.servingModel.uri);
  // A version whose file is not ONNX: a load must refuse it and keep the old version serving.
  const stage = await fixture.artifacts.stage();
  await writeFile(join(stage, 'model.onnx'), 'this is not an ONNX model');
  await writeFile(join(stage, 'signature.json'), JSON.stringify(signature));
  const { uri } = await fixture.artifacts.commit(stage);
  const v3 = await register(uri);
  await db.registry.setAlias('flights', 'champion', v1.version, WHO);
  const rows = await withDuckDB(async (conn) => {
    const path = join(fixture.examples.path, 'eval', 'data.parquet');
    const result = await conn.runAndReadAll(`SELECT hour::INTEGER AS hour, weekday::INTEGER AS weekday, distance::INTEGER AS distance,
      origin, destination FROM read_parquet(${sqlString(path)}) LIMIT 20`);
    return result.getRowObjects() as Record<string, string | number>[];
  });
  return {
    dir,
    db,
    artifacts: fixture.artifacts,
    signature,
    fixture,
    rows,
    good: [v1.version, v2.version],
    corrupt: v3.version,
    close: () => db.close(),
  };
}

/** What the champion's ONNX file answers for `rows` run directly, without a server: the probabilities a served answer must equal. */
export async function directProbabilities(reg: ServingRegistry, rows: ServingRegistry['rows']): Promise<number[]> {
  const session = await ort.InferenceSession.create(join(reg.fixture.servingModel.path, 'model.onnx'));
  try {
    const feeds = Object.fromEntries(reg.signature.inputs.map((spec) => [spec.name, toTensor(spec, rows.map((row) => row[spec.name]))]));
    return Array.from((await session.run(feeds)).probability!.data as Float32Array);
  } finally {
    await session.release();
  }
}

export { WHO as TEST_ACTOR };
