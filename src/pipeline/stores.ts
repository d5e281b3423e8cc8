/**
 * The stores on the Loom database, as steps and the modules above them receive them.
 * `openPlatform` (`platform/`) builds them once; this is only their shape, kept here
 * so that modules below the composition root can name it.
 */
import type { MetadataStore } from '../metadata/store.js';
import type { DeploymentStore } from '../registry/deployment-store.js';
import type { RegistryStore } from '../registry/store.js';
import type { TrackingStore } from '../tracking/store.js';

/** The metadata (lineage), registry, tracking and deployment stores; `close()` closes them all. */
export interface LoomDatabase {
  metadata: MetadataStore;
  registry: RegistryStore;
  /** Experiments, runs, params, metrics and tags (MLflow tracking); see `tracking/store.ts`. */
  tracking: TrackingStore;
  /** Online-server deployments (canary, shadow, rollback); see `registry/deployment-store.ts`. */
  deployments: DeploymentStore;
  close(): Promise<void>;
}
