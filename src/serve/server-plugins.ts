/**
 * The model server's batch and browser surfaces in one list for `startModelServer`'s
 * `plugins` option: key lookups of precomputed predictions (`/v1/predictions/...`) and
 * the in-browser scoring page (`/ui/score/`, `/ui/models/{name}/model.onnx`).
 *
 * Usage (in `loom serve`):
 *   startModelServer({ ..., plugins: batchAndBrowserPlugins({ metadata: db.metadata, artifacts, defaultModel: 'flights' }) })
 */
import type { FastifyInstance } from 'fastify';
import type { MetadataStore } from '../metadata/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { InferenceContext } from './inference.js';
import { browserPageRoutes } from './routes/browser-page.js';
import { precomputedRoutes } from './routes/precomputed.js';
import { servedModelsOf } from './routes/v2.js';

export interface BatchAndBrowserOptions {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  /** The model the page opens without `?model=`. */
  defaultModel?: string;
}

export function batchAndBrowserPlugins(options: BatchAndBrowserOptions): ((app: FastifyInstance, ctx: InferenceContext) => Promise<void>)[] {
  return [
    async (app) => {
      await app.register(precomputedRoutes, { metadata: options.metadata, artifacts: options.artifacts });
    },
    async (app, ctx) => {
      await app.register(browserPageRoutes, { models: servedModelsOf(ctx.pool), artifacts: options.artifacts, defaultModel: options.defaultModel });
    },
  ];
}
