/**
 * `loom server`: the platform's own HTTP API over a project's stores. One Fastify app,
 * one plugin per surface under `routes/` (tracking and the model registry on MLflow's
 * REST paths, Loom's own read API under /api/loom, the dashboard at /). Model serving is `loom serve`, a
 * separate process, so inference latency never shares an event loop with the API.
 *
 * Usage:
 *   const server = await startPlatformServer({ port: 5000, db, artifacts });
 *   console.log(server.url); ... await server.close();
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { listenOn } from '../core/listen.js';
import { createHttpApp } from '../http/app.js';
import { drainingClose } from '../http/cluster.js';
import { PLATFORM_LIMITS, resolveLimits, type HttpLimits } from '../http/limits.js';
import { metricsPlugin } from '../http/metrics.js';
import type { Logger } from '../http/request-log.js';
import type { FitStore } from '../monitor/fit-store.js';
import type { MonitorHistoryStore } from '../monitor/history-store.js';
import type { LabelStore } from '../monitor/label-store.js';
import { registerMonitorMetrics, type MonitorMetricsOptions } from '../monitor/metrics.js';
import type { PredictionLogLocation } from '../monitor/prediction-log-reader.js';
import type { LoomDatabase } from '../pipeline/stores.js';
import type { Reruns } from '../platform/rerun.js';
import type { RequestSecurity } from '../audit/request-security.js';
import type { LoadShedding, RateLimit } from '../auth/settings.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { DASHBOARD_DIR, dashboardRoutes, isDashboardFile } from './routes/dashboard.js';
import { LOOM_API_PREFIX, loomApiRoutes } from './routes/loom-api.js';
import { datasetDriftRoutes } from './routes/loom-api-dataset-drift.js';
import { loomMonitorRoutes } from './routes/loom-api-monitor.js';
import { modelEvaluationRoutes } from './routes/loom-api-model-evaluation.js';
import { loomSessionRoutes } from './routes/loom-api-session.js';
import { registryRoutes } from './routes/registry.js';
import { trackingRoutes } from './routes/tracking.js';

export interface PlatformServerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  db: LoomDatabase;
  artifacts: ArtifactStore;
  /** Largest request body in bytes; default 32 MiB (log-batch bodies can be large); the same as `limits.bodyBytes`. */
  bodyLimit?: number;
  /** Body and upload sizes, JSON depth and timeouts; defaults in `PLATFORM_LIMITS` (uploads up to 256 MiB). */
  limits?: Partial<HttpLimits>;
  /** Authentication, authorization and the audit log (`createRequestSecurity`); without it the app runs open and unaudited (tests). */
  security?: RequestSecurity;
  /** Monitoring gauges on /metrics (monitor/metrics.ts): where the prediction log is, and the window. */
  monitor?: { location: PredictionLogLocation; labels?: LabelStore; history?: MonitorHistoryStore; fits?: FitStore } & MonitorMetricsOptions;
  /** The built dashboard served at `/`; default web/dist/dashboard of this package. */
  dashboardDir?: string;
  /** Structured JSON logs (`createLogger`), a line per request; none: silent (tests). */
  log?: Logger;
  /** Browser origins allowed to call the API (CORS, `http.corsOrigins`); none: CORS off. */
  corsOrigins?: readonly string[];
  /** Requests per principal and window (`http.rateLimit.server`); none: unlimited. */
  rateLimit?: RateLimit;
  /** Runs pipeline runs again for `POST /api/loom/pipeline-runs/:runId/rerun` (`loom server` gives its project's); none: the route refuses. */
  reruns?: Reruns;
  /** 503 with Retry-After while overloaded (`http.loadShedding.server`); none: never refused. */
  loadShedding?: LoadShedding;
}

/** What every route plugin of the platform API receives. */
export interface PlatformRouteOptions {
  db: LoomDatabase;
  artifacts: ArtifactStore;
  limits: HttpLimits;
  security?: RequestSecurity;
  reruns?: Reruns;
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
  const limits = resolveLimits(PLATFORM_LIMITS, { bodyBytes: options.bodyLimit, ...options.limits });
  // Alias moves are recorded with the request's principal; anonymous ones as the API itself.
  const security = options.security;
  const app = await createHttpApp({
    limits,
    errorFormat: 'mlflow',
    anonymousName: 'mlflow-api',
    openApi: { title: 'Loom platform API (loom server)', description: "MLflow's tracking and registry REST API, Loom's API under /api/loom, the dashboard" },
    log: options.log && { logger: options.log, requests: true },
    security: security && { resolvePrincipal: security.resolvePrincipal, allowedHosts: security.exposure.allowedHosts, isPublic: isDashboardFile },
    corsOrigins: options.corsOrigins,
    rateLimit: options.rateLimit,
    loadShedding: options.loadShedding,
  });
  // Readiness: 503 while load shedding refuses requests, so a load balancer sends them elsewhere.
  app.get('/health', { schema: { summary: 'Readiness: 503 with Retry-After while load shedding (no credentials needed)', tags: ['meta'] } }, async (_request, reply) => {
    const pressure = app.loadShedding?.pressure();
    if (pressure === undefined) return { status: 'ok' };
    return reply.code(503).header('retry-after', String(app.loadShedding!.retryAfterSeconds)).send({ status: 'overloaded', reason: pressure });
  });
  // Monitoring gauges are read from the stores, alike in every worker: answered, not summed, under `--workers N`.
  const monitorMetrics = new Registry();
  if (options.monitor) {
    const { location, labels, history: _history, fits, ...monitorOptions } = options.monitor;
    registerMonitorMetrics(monitorMetrics, { metadata: options.db.metadata, registry: options.db.registry, artifacts: options.artifacts, location, labels, monitorFits: fits }, monitorOptions);
  }
  await app.register(metricsPlugin, { shared: monitorMetrics, countRequests: true });
  const routeOptions: PlatformRouteOptions = { db: options.db, artifacts: options.artifacts, limits, security, reruns: options.reruns };
  // Route plugins register here, one per surface:
  await app.register(trackingRoutes, routeOptions);
  await app.register(registryRoutes, { ...routeOptions, prefix: MLFLOW_PREFIX });
  await app.register(loomApiRoutes, { ...routeOptions, prefix: LOOM_API_PREFIX });
  await app.register(loomMonitorRoutes, { ...routeOptions, history: options.monitor?.history, location: options.monitor?.location, labels: options.monitor?.labels, fits: options.monitor?.fits, prefix: LOOM_API_PREFIX });
  await app.register(loomSessionRoutes, { prefix: LOOM_API_PREFIX });
  await app.register(datasetDriftRoutes, { ...routeOptions, prefix: LOOM_API_PREFIX });
  await app.register(modelEvaluationRoutes, { ...routeOptions, prefix: LOOM_API_PREFIX });
  await app.register(dashboardRoutes, { root: options.dashboardDir ?? DASHBOARD_DIR });
  return app;
}

export async function startPlatformServer(options: PlatformServerOptions): Promise<PlatformServer> {
  const app = await buildPlatformApp(options);
  // In-flight requests finish first; under `--workers N`, connections waiting on the shared socket too.
  const close = drainingClose(app);
  let closing: Promise<void> | undefined;
  return {
    url: await listenOn(app, options),
    app,
    close: () => (closing ??= close()),
  };
}
