/**
 * The baseline a served version is monitored against, found through lineage: the model
 * version's artifact → upstream (compose ← transform ← schema ← statistics ← ingest) → the
 * training run's `ExampleStatistics` (its train split), the `Schema` the transform was fitted
 * with, and the `Examples` whose train split the rows come from (for exact bin counts and
 * the PCA fit).
 *
 * Usage: `const baseline = await trainingBaseline(platform, platform.artifacts, 'flights', 3)`
 */
import { readFile } from 'node:fs/promises';
import { LoomError } from '../core/errors.js';
import { pathExists } from '../core/path-exists.js';
import { readSource } from '../data/duckdb.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Artifact } from '../metadata/types.js';
import { ExampleStatistics, Examples, Schema as SchemaArtifact } from '../pipeline/artifact-types.js';
import type { RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { parseSchema } from '../validate/schema.js';
import type { DatasetStatistics } from '../validate/statistics.js';
import type { MonitorBaseline } from './windows.js';

/** Steps between a served model and its training statistics, with room for longer pipelines. */
const MAX_HOPS = 12;
const TRAIN_SPLIT = 'train';

/** The baseline of `model` version `version`; FAILED_PRECONDITION when lineage has no statistics or schema. */
export async function trainingBaseline(stores: { metadata: MetadataStore; registry: RegistryStore }, artifacts: ArtifactStore, model: string, version: number): Promise<MonitorBaseline & { statisticsArtifactId: number }> {
  const found = await stores.registry.getModelVersion(model, version);
  if (!found) throw new LoomError('NOT_FOUND', `model "${model}" has no version ${version}`, { field: 'model', fix: 'run `loom models ls` to see registered versions' });
  const fix = 'monitor versions registered by a pipeline (its statistics and schema steps are what windows are compared with)';
  if (found.artifactId === null) throw new LoomError('FAILED_PRECONDITION', `version ${version} of "${model}" was registered without an artifact, so it has no training statistics`, { fix });
  const graph = await stores.metadata.lineage(found.artifactId, { direction: 'upstream', maxHops: MAX_HOPS });
  // The nearest upstream artifact of each type: the newest id (pipelines run forward).
  const newest = (type: string): Artifact | undefined => graph.artifacts.filter((a) => a.typeName === type).sort((a, b) => b.id - a.id)[0];
  const statisticsArtifact = newest(ExampleStatistics.name);
  const schemaArtifact = newest(SchemaArtifact.name);
  if (!statisticsArtifact || !schemaArtifact) {
    throw new LoomError('FAILED_PRECONDITION', `the lineage of "${model}" version ${version} has no ${statisticsArtifact ? 'schema' : 'training statistics'}`, { fix });
  }
  const statistics = JSON.parse(await readFile(ExampleStatistics.files.split(await artifacts.localPath(statisticsArtifact.uri), TRAIN_SPLIT), 'utf8')) as DatasetStatistics;
  const schemaPath = SchemaArtifact.files.schema(await artifacts.localPath(schemaArtifact.uri));
  const schema = parseSchema(await readFile(schemaPath, 'utf8'), schemaPath);
  const examples = newest(Examples.name);
  const trainFile = examples ? Examples.files.split(await artifacts.localPath(examples.uri), TRAIN_SPLIT) : undefined;
  // Without the rows (an artifact store pruned of them) the windows fall back to the statistics alone.
  const trainingRows = trainFile && (await pathExists(trainFile)) ? `SELECT * FROM ${readSource(trainFile)}` : undefined;
  return { schema, statistics, ...(trainingRows && { trainingRows }), statisticsArtifactId: statisticsArtifact.id };
}
