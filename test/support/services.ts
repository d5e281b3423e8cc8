/** What a launcher binds for an executor, for tests that call a component directly. */
import { silentProgress } from '../../src/core/progress.js';
import type { ExecutorServices } from '../../src/pipeline/component.js';
import type { RegistryStore } from '../../src/registry/store.js';
import type { ArtifactStore } from '../../src/store/artifact-store.js';

/** A stand-in that fails loudly if a component uses a service its test did not give it. */
function absent<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: () => {
      throw new Error(`this test gave the component no ${what}`);
    },
  });
}

export function testServices(options: { artifacts?: ArtifactStore; registry?: RegistryStore } = {}): ExecutorServices {
  return {
    registry: options.registry ?? absent<RegistryStore>('registry'),
    artifacts: options.artifacts ?? absent<ArtifactStore>('artifact store'),
    progress: silentProgress,
    log: () => {},
  };
}
