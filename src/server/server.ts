/**
 * `loom server`: the platform's own HTTP API over a project's stores. One Fastify app,
 * one plugin per surface under `routes/` (tracking and the model registry on MLflow's
 * REST paths; pipelines and the dashboard later). Model serving is `loom serve`, a
 * separate process, so inference latency never shares an event loop with the API.
 *
 * Usage:
 *   const server = await startPlatformServer({ port: 5000, db, artifacts });
 *   console.log(server.url); ... await server.close();
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { LoomError } from '../core/errors.js';
import type { LoomDatabase } from '../pipeline/stores.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { listenOn } from '../core/listen.js';
import { mlflowErrorResponse, replyWithMlflowError } from './mlflow-errors.js';
import { registryRoutes } from './routes/registry.js';
import { trackingRoutes } from './routes/tracking.js';

export interface PlatformServerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  db: LoomDatabase;
  artifacts: ArtifactStore;
  /** Largest request body in bytes; default 32 MiB (log-batch bodies can be large). */
  bodyLimit?: number;
}

/** What every route plugin of the platform API receives. */
export interface PlatformRouteOptions {
  db: LoomDatabase;
  artifacts: ArtifactStore;
}

export interface PlatformServer {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** MLflow clients call `<tracking uri>/api/2.0/mlflow/...` (and the `ajax-api` twin from its UI). */
export const MLFLOW_PREFIX = '/api/2.0/mlflow';

/** Builds the app without listening, for `app.inject()` tests. */
export async function buildPlatformApp(options: Omit<PlatformServerOptions, 'port' | 'host'>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 32 * 1024 * 1024 });
  app.setErrorHandler(replyWithMlflowError);
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = mlflowErrorResponse(new LoomError('NOT_FOUND', `no route ${request.method} ${request.url}`));
    return reply.code(status).send({ ...body, error_code: 'ENDPOINT_NOT_FOUND' });
  });
  app.get('/health', async () => ({ status: 'ok' }));
  const routeOptions: PlatformRouteOptions = { db: options.db, artifacts: options.artifacts };
  // Route plugins register here, one per surface:
  await app.register(trackingRoutes, routeOptions);
  await app.register(registryRoutes, { ...routeOptions, prefix: MLFLOW_PREFIX });
  void routeOptions;
  return app;
}

export async function startPlatformServer(options: PlatformServerOptions): Promise<PlatformServer> {
  const app = await buildPlatformApp(options);
  return {
    url: await listenOn(app, options),
    app,
    close: () => app.close(),
  };
}
