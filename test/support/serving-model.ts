/**
 * A real ServingModel for tests, made the way a pipeline makes one: a small flights
 * slice becomes Examples (raw features derived with DuckDB SQL, label `delayed` =
 * delay > 15), then the transform, train and compose components run on it. No mocks:
 * the ONNX file is the one serving and evaluation load in production.
 *
 * Usage: `const fixture = await buildServingModel(await makeTempDir(t.after));`
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import type { JsonObject } from '../../src/core/json.js';
import { sqlString, withDuckDB } from '../../src/data/duckdb.js';
import type { ArtifactTypeDef } from '../../src/pipeline/artifact-types.js';
import type { ComponentDef, ExecutorServices, InputArtifact, InputDef, ResolvedInputs } from '../../src/pipeline/component.js';
import type { RegistryStore } from '../../src/registry/store.js';
import type { ModelSignature, ModelVersion } from '../../src/registry/types.js';
import { LocalArtifactStore } from '../../src/store/local-artifact-store.js';
import { composeComponent } from '../../src/train/compose-component.js';
import { trainComponent, type TrainParameters } from '../../src/train/component.js';
import { transformComponent } from '../../src/transform/component.js';
import { writeFlightsSlice } from './flights.js';
import { testServices } from './services.js';

/** The raw features the served model takes, and the label. */
export const RAW_FEATURES = ['hour', 'weekday', 'distance', 'origin', 'destination'] as const;
export const LABEL_COLUMN = 'delayed';

export interface ServingModelOptions {
  /** Months of 2001 to slice; default [1]. */
  months?: number[];
  /** Keep one flight in `every`; default 250 (about 2,000 rows a month). */
  every?: number;
  /** Training epochs; fewer gives a weaker model, for baseline comparisons. Default 5. */
  epochs?: number;
  /** The train step's parameters instead (e.g. `{ algorithm: 'gbdt', numTrees: 20 }`); default logistic regression with `epochs`. */
  train?: TrainParameters;
  /** Artifact store to commit into; default a new one under `dir/artifacts`. */
  artifacts?: LocalArtifactStore;
}

export interface ServingModelFixture {
  artifacts: LocalArtifactStore;
  /** Examples with `train/data.parquet` and `eval/data.parquet`: the raw features plus `delayed` (boolean). */
  examples: InputArtifact;
  transformGraph: InputArtifact;
  model: InputArtifact;
  /** `model.onnx` over raw features (output `probability`) and `signature.json`. */
  servingModel: InputArtifact;
}

let nextArtifactId = 1;

/** Builds the fixture in `dir` (a temporary directory the caller removes). */
export async function buildServingModel(dir: string, options: ServingModelOptions = {}): Promise<ServingModelFixture> {
  const artifacts = options.artifacts ?? new LocalArtifactStore(join(dir, 'artifacts'));
  const examples = await writeExamples(dir, artifacts, options);
  // The transform takes the reviewed schema as an input for lineage; an empty artifact stands in for it.
  const schema = await commitArtifact(artifacts, await artifacts.stage(), {});
  const transformed = await runComponent(artifacts, transformComponent, { examples, schema }, { labelColumn: LABEL_COLUMN });
  const trained = await runComponent(
    artifacts,
    trainComponent,
    { transformedExamples: transformed.transformedExamples, transformGraph: transformed.transformGraph },
    options.train ?? { epochs: options.epochs ?? 5 },
  );
  const composed = await runComponent(artifacts, composeComponent, { transformGraph: transformed.transformGraph, model: trained.model }, {});
  return { artifacts, examples, transformGraph: transformed.transformGraph, model: trained.model, servingModel: composed.servingModel };
}

/** Services for running an executor outside the orchestrator. */

/**
 * Runs a component's executor as the orchestrator would (validated parameters, one staging
 * directory per output, commit after success) and returns its outputs as input artifacts.
 */
export async function runComponent<I extends Record<string, InputDef>, O extends Record<string, ArtifactTypeDef>, P extends z.ZodType>(
  artifacts: LocalArtifactStore,
  component: ComponentDef<I, O, P>,
  inputs: ResolvedInputs<I>,
  parameters: z.input<P>,
  services: ExecutorServices = testServices({ artifacts }),
  /** The pipeline run the step pretends to belong to (push records it on the version). */
  runId?: string,
): Promise<{ [K in keyof O]: InputArtifact }> {
  const outputs = {} as { [K in keyof O]: string };
  for (const name of Object.keys(component.outputs) as (keyof O)[]) outputs[name] = await artifacts.stage();
  const run = runId === undefined ? {} : { run: { runId, pipelineName: 'test', stepName: component.name, executionId: 0 } };
  const result = await component.execute({ inputs, outputs, parameters: component.parameters.parse(parameters), ...run }, services);
  const committed = {} as { [K in keyof O]: InputArtifact };
  for (const name of Object.keys(component.outputs) as (keyof O)[]) {
    committed[name] = await commitArtifact(artifacts, outputs[name], result.properties[name] as JsonObject);
  }
  return committed;
}

async function commitArtifact(artifacts: LocalArtifactStore, stagingDir: string, properties: JsonObject): Promise<InputArtifact> {
  const { uri, fingerprint } = await artifacts.commit(stagingDir);
  return { id: nextArtifactId++, uri, path: await artifacts.localPath(uri), fingerprint, properties };
}

async function writeExamples(dir: string, artifacts: LocalArtifactStore, options: ServingModelOptions): Promise<InputArtifact> {
  const rawPath = join(dir, `flights-${Date.now()}-${nextArtifactId}.parquet`);
  await writeFlightsSlice(rawPath, { months: options.months ?? [1], every: options.every ?? 250 });
  const stage = await artifacts.stage();
  const rowCounts: Record<string, number> = {};
  await withDuckDB(async (db) => {
    await db.run(`CREATE TABLE examples AS SELECT
        hour(date)::BIGINT AS hour, dayofweek(date)::BIGINT AS weekday, distance::BIGINT AS distance,
        origin, destination, delay > 15 AS delayed, row_number() OVER () AS rn
      FROM read_parquet(${sqlString(rawPath)})`);
    // One row in five goes to eval, by position, so the split is the same on every run.
    const splits = { train: 'rn % 5 <> 0', eval: 'rn % 5 = 0' };
    for (const [split, condition] of Object.entries(splits)) {
      await mkdir(join(stage, split));
      await db.run(`COPY (SELECT * EXCLUDE (rn) FROM examples WHERE ${condition} ORDER BY rn)
        TO ${sqlString(join(stage, split, 'data.parquet'))} (FORMAT PARQUET)`);
      const counted = await db.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM examples WHERE ${condition}`);
      rowCounts[split] = Number(counted.getRowObjects()[0]?.n ?? 0);
    }
  });
  return commitArtifact(artifacts, stage, {
    splits: Object.keys(rowCounts),
    rowCounts,
    columns: [...RAW_FEATURES.map((name) => ({ name, type: name === 'origin' || name === 'destination' ? 'VARCHAR' : 'BIGINT' })), { name: LABEL_COLUMN, type: 'BOOLEAN' }],
    source: rawPath,
    span: `2001 months ${(options.months ?? [1]).join(',')}`,
    contentHash: '',
  });
}

/** Registers the fixture's served model as a new version of `flights` and makes it the champion. */
export async function registerFlightsChampion(registry: RegistryStore, fixture: ServingModelFixture, reason: string): Promise<ModelVersion> {
  const signature = JSON.parse(await readFile(join(fixture.servingModel.path, 'signature.json'), 'utf8')) as ModelSignature;
  await registry.ensureRegisteredModel('flights');
  const version = await registry.createModelVersion({ modelName: 'flights', source: fixture.servingModel.uri, status: 'READY', signature });
  await registry.setAlias('flights', 'champion', version.version, { actor: 'test', reason });
  return version;
}
