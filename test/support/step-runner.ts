/** The step runner tests use: the stores of one test database, executors in this process. */
import type { LoomDatabase } from '../../src/pipeline/stores.js';
import { createStepRunner, type StepRunner } from '../../src/pipeline/step-runner.js';
import type { ArtifactStore } from '../../src/store/artifact-store.js';

export function testStepRunner(db: LoomDatabase, artifacts: ArtifactStore): StepRunner {
  return createStepRunner({ metadata: db.metadata, registry: db.registry, tracking: db.tracking, artifacts });
}
