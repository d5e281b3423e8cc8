/**
 * A project with a real registered model, as a pipeline leaves it: the serving-model
 * fixture (test/support/serving-model.ts) in an artifact store, its Examples and
 * ServingModel artifacts recorded in the metadata store (so lineage edges point at real
 * rows), evaluated and pushed as `flights` (version 1, alias champion).
 *
 * Usage: `const project = await registeredModelProject(dir); ... await project.db.close();`
 */
import { join } from 'node:path';
import { evaluateComponent } from '../../src/evaluate/component.js';
import type { ConfigOverrides } from '../../src/platform/config.js';
import type { Platform } from '../../src/platform/platform.js';
import { Examples, ServingModel } from '../../src/pipeline/artifact-types.js';
import { pushComponent } from '../../src/push/push-component.js';
import { LocalArtifactStore } from '../../src/store/local-artifact-store.js';
import { buildServingModel, runComponent, type ServingModelFixture } from './serving-model.js';
import { openTestPlatform } from './databases.js';
import { testServices } from './services.js';

export interface RegisteredModelProject {
  /** The project home (`<dir>/.loom`), as `loom` finds it through LOOM_HOME. */
  home: string;
  db: Platform;
  artifacts: LocalArtifactStore;
  fixture: ServingModelFixture;
  /** Metadata-store ids of the Examples and ServingModel artifacts. */
  examplesId: number;
  servingModelId: number;
}

/** `overrides` open it elsewhere than the default SQLite file (a PostgreSQL schema). */
export async function registeredModelProject(dir: string, overrides: ConfigOverrides = {}): Promise<RegisteredModelProject> {
  const home = join(dir, '.loom');
  const db = await openTestPlatform(home, overrides);
  const artifacts = new LocalArtifactStore(db.layout.artifacts);
  const fixture = await buildServingModel(dir, { artifacts });
  await db.metadata.putArtifactType(Examples);
  await db.metadata.putArtifactType(ServingModel);
  const [examples, servingModel] = await db.metadata.putArtifacts([
    { typeName: Examples.name, uri: fixture.examples.uri, fingerprint: fixture.examples.fingerprint, properties: { splits: fixture.examples.properties.splits ?? [] } },
    { typeName: ServingModel.name, uri: fixture.servingModel.uri, fingerprint: fixture.servingModel.fingerprint, properties: {} },
  ]);
  fixture.examples = { ...fixture.examples, id: examples!.id };
  fixture.servingModel = { ...fixture.servingModel, id: servingModel!.id };
  const evaluated = await runComponent(artifacts, evaluateComponent, { model: fixture.servingModel, examples: fixture.examples, baseline: undefined }, {});
  await runComponent(
    artifacts,
    pushComponent,
    { servingModel: fixture.servingModel, evaluation: evaluated.evaluation, blessing: evaluated.blessing },
    { modelName: 'flights' },
    testServices({ artifacts, registry: db.registry }),
    'run-1',
  );
  return { home, db, artifacts, fixture, examplesId: examples!.id, servingModelId: servingModel!.id };
}
