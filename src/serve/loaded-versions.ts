/**
 * The model versions a server has open, each opened once however many slots point at it
 * (`flights@champion` and `flights@3` on the same version share one session), and closed
 * when the last slot lets go of it (after draining its in-flight requests).
 *
 * Usage: `const model = await versions.acquire(ref, version, batch); ... versions.release(model);`
 */
import type { RegistryStore } from '../registry/store.js';
import type { ModelVersion } from '../registry/types.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { BatchConfig } from './batcher.js';
import type { ServingMetrics } from './metrics.js';
import { openModelVersion, type LoadedModel } from './model-loader.js';

export interface LoadedVersionsOptions {
  registry: RegistryStore;
  artifacts: ArtifactStore;
  metrics: ServingMetrics;
  logger: { warn(message: string): void };
}

export class LoadedVersions {
  private readonly open = new Map<string, { model: LoadedModel; users: number }>();

  constructor(private readonly options: LoadedVersionsOptions) {}

  /** The loaded model of `version`: the one already open for another slot, else opened and warmed up now. */
  async acquire(ref: string, version: ModelVersion, batch: BatchConfig): Promise<LoadedModel> {
    const key = versionKey(version.modelName, version.version);
    const shared = this.open.get(key);
    if (shared) {
      shared.users++;
      return shared.model;
    }
    const child = this.options.metrics.model(version.modelName, version.version);
    const model = await openModelVersion(ref, version, this.options, { batch, onRun: (rows) => child.batch(rows) });
    model.metrics = child;
    const raced = this.open.get(key);
    if (raced) {
      // Opened twice at once (a reconfiguration beside a refresh): keep the first.
      model.close().catch(() => {});
      raced.users++;
      return raced.model;
    }
    this.open.set(key, { model, users: 1 });
    return model;
  }

  /** One slot stopped using `model`: the last one out drains and closes it. */
  release(model: LoadedModel): void {
    const key = versionKey(model.name, model.version.version);
    const shared = this.open.get(key);
    if (shared?.model === model && --shared.users > 0) return;
    if (shared?.model === model) this.open.delete(key);
    // Drains the version's in-flight requests before releasing its session.
    model.close().catch((error: unknown) => this.options.logger.warn(`releasing ${model.ref}: ${String(error)}`));
  }

  /** Drains and closes every open version. */
  async closeAll(): Promise<void> {
    const models = [...this.open.values()].map((shared) => shared.model);
    this.open.clear();
    await Promise.all(models.map((model) => model.close()));
  }
}

function versionKey(name: string, version: number): string {
  return `${name}\u0000${version}`;
}
