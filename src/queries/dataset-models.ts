/**
 * The other way along lineage from `queries/lineage.ts`: the registered model versions made
 * from a dataset version, found downstream of every ingest of the version to the push steps
 * that registered them (their PushedModel outputs). Versions since deleted from the registry
 * are left out. The dashboard's dataset page links each to its model page.
 *
 * Usage: `const { models } = await datasetVersionModels(platform, '3fa9c1');`
 */
import { findDatasetVersion, versionGroups, versionOf } from '../data/versions.js';
import type { MetadataStore } from '../metadata/store.js';
import { PushedModel } from '../pipeline/artifact-types.js';
import type { RegistryStore } from '../registry/store.js';
import type { DatasetModel, DatasetModels } from './views/dataset-models.js';

/** Ingest → transform → train (or tune) → compose → push is 5 hops; room for longer pipelines. */
const MAX_HOPS = 12;

// The answer's types live in views/ (no Node) so the dashboard shares them; re-exported for the server's users.
export type { DatasetModel, DatasetModels } from './views/dataset-models.js';

/** The model versions registered from the version `prefix` names, by name then newest version first. */
export async function datasetVersionModels(stores: { metadata: MetadataStore; registry: RegistryStore }, prefix: string): Promise<DatasetModels> {
  const version = versionOf(await findDatasetVersion(stores, prefix));
  const ingests = (await versionGroups(stores)).get(version) ?? [];
  const graphs = await Promise.all(ingests.map((a) => stores.metadata.lineage(a.id, { direction: 'downstream', maxHops: MAX_HOPS })));
  const found = new Map<string, DatasetModel>();
  for (const artifact of graphs.flatMap((g) => g.artifacts)) {
    const { modelName, version: number } = artifact.properties;
    if (artifact.typeName !== PushedModel.name || typeof modelName !== 'string' || typeof number !== 'number') continue;
    found.set(`${modelName}@${number}`, { name: modelName, version: number, pushedArtifactId: artifact.id });
  }
  const models: DatasetModel[] = [];
  for (const model of found.values()) if (await stores.registry.getModelVersion(model.name, model.version)) models.push(model);
  models.sort((a, b) => a.name.localeCompare(b.name) || b.version - a.version);
  return { version, models };
}
