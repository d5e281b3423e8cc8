/**
 * The online model server: serves registered models over KServe V2, TF Serving's REST
 * API and MLflow's `/invocations`, with Prometheus `/metrics`. It watches the registry
 * (and the deployments table) and hot-swaps a model when its alias moves or its
 * deployment changes, with no failed request; micro-batches concurrent requests; and
 * logs every prediction through a bounded queue.
 *
 * Usage:
 *   const server = await startModelServer({ port: 8080, models: ['flights@champion'], registry, artifacts });
 *   console.log(server.url); ... await server.close();
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoomError } from '../core/errors.js';
import type { Deployment, DeploymentStore } from '../registry/deployment-store.js';
import { listenOn } from '../core/listen.js';
import { createHttpApp } from '../http/app.js';
import { drainingClose } from '../http/cluster.js';
import { MODEL_SERVER_LIMITS, resolveLimits, type HttpLimits } from '../http/limits.js';
import { metricsPlugin } from '../http/metrics.js';
import type { Logger } from '../http/request-log.js';
import type { PrincipalOptions } from '../http/principal.js';
import type { LoadShedding, RateLimit } from '../auth/settings.js';
import type { RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { BatchConfig } from './batcher.js';
import type { InferenceContext } from './inference.js';
import { ServingMetrics } from './metrics.js';
import type { LoadedModel } from './model-loader.js';
import { ModelPool, type EndpointConfig, type ServerLogger } from './model-pool.js';
import { DEFAULT_ALIAS, parseModelRef } from '../registry/model-ref.js';
import { PredictionLog, type PredictionLogOptions, type PredictionLogSink } from './prediction-log.js';
import { invocationsModel, mlflowRoutes } from './routes/mlflow.js';
import { tfServingRoutes } from './routes/tfserving.js';
import { v2Routes } from './routes/v2.js';
import { startGrpcServer, type GrpcServer } from './grpc/server.js';

export type { ServerLogger } from './model-pool.js';

export interface ModelServerOptions {
  port: number;
  /** Default 127.0.0.1: serving on every interface is a choice to make explicitly. */
  host?: string;
  /** References (`name`, `name@alias`, `name@version`); empty means every registered model's champion. */
  models: string[];
  registry: RegistryStore;
  artifacts: ArtifactStore;
  /** Deployments to follow (canary, shadow, batching); a deployment overrides the references for its model. */
  deployments?: DeploymentStore;
  /** How often to check aliases and deployments, in ms; default 1000; 0 turns watching off. */
  watchIntervalMs?: number;
  /** Batching defaults for every model (a deployment may override them per model). */
  batch?: Partial<BatchConfig>;
  /** Where the prediction log goes; none means no log. */
  predictionLog?: PredictionLogSink;
  predictionLogOptions?: Omit<PredictionLogOptions, 'onDropped' | 'onWritten'>;
  /** The model `/invocations` answers when the request names none. */
  defaultModel?: string;
  /** The server's messages (loads, swaps, failures); default: those of `log`, else warnings to stderr. */
  logger?: ServerLogger;
  /** Structured JSON logs (`createLogger`): server faults and messages with their request ids; none: silent (tests). */
  log?: Logger;
  /** Largest request body in bytes; default 10 MiB (the same as `limits.bodyBytes`). */
  bodyLimit?: number;
  /** Body sizes, JSON depth and timeouts; defaults in `MODEL_SERVER_LIMITS`. */
  limits?: Partial<HttpLimits>;
  /**
   * Authentication (`createServerAuthentication`): every request but the probes needs a token
   * or JWT unless the server runs open on loopback; predictions need the `predict` permission
   * on their model. Without it the app runs open (tests, embedding).
   */
  security?: PrincipalOptions['security'];
  /** Browser origins allowed to call the server (CORS, `http.corsOrigins`); none: CORS off. */
  corsOrigins?: readonly string[];
  /** Requests per principal and window, in each worker (`http.rateLimit.serve`); none: unlimited. */
  rateLimit?: RateLimit;
  /** 503 with Retry-After while a worker is overloaded (`http.loadShedding.serve`); none: never refused. */
  loadShedding?: LoadShedding;
  /** More route plugins on the same app (batch predictions, the browser page). */
  plugins?: ((app: FastifyInstance, ctx: InferenceContext) => Promise<void>)[];
  /** Also answer KServe V2 over gRPC on this port (same host, models, log and authentication; 0: any free port); none: no gRPC. */
  grpcPort?: number;
}

/** A model that could not be loaded, and why. */
export interface LoadFailure {
  ref: string;
  error: LoomError;
}

/** A model server built but not listening: `app.inject()` reaches it; `close()` releases it. */
export interface BuiltModelServer {
  app: FastifyInstance;
  /** The model versions being served now (primary first); changes on a swap. */
  readonly loaded: LoadedModel[];
  failures: LoadFailure[];
  pool: ModelPool;
  metrics: ServingMetrics;
  log?: PredictionLog;
  /** Checks the registry and deployments now (the watcher does this every interval). */
  refresh(): Promise<void>;
  /** Stops accepting connections, finishes in-flight requests, then releases the sessions and flushes the log. */
  close(): Promise<void>;
}

export interface ModelServer extends BuiltModelServer {
  /** `http://host:port`, with the port actually bound (for `port: 0`). */
  url: string;
  /** `host:port` of the gRPC endpoint (with the port actually bound), when `grpcPort` was given. */
  grpcAddress?: string;
}

const stderrLogger: ServerLogger = {
  info() {},
  warn(message) {
    process.stderr.write(`${message}\n`);
  },
};

/** The server's messages as log lines. */
function pinoLogger(log: Logger): ServerLogger {
  return { info: (message) => log.info(message), warn: (message) => log.warn(message) };
}

/**
 * Loads the models and starts listening. A model that fails to load is reported (logger
 * and `failures`) and the rest are served; if none loads, fails with NOT_FOUND.
 */
export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const server = await buildModelServer(options);
  let url: string;
  let grpc: GrpcServer | undefined;
  try {
    if (options.grpcPort !== undefined) {
      grpc = await startGrpcServer({
        ctx: { pool: server.pool, metrics: server.metrics, log: server.log },
        port: options.grpcPort,
        host: options.host,
        isReady: () => server.pool.names().length > 0,
        security: options.security,
        maxMessageBytes: resolveLimits(MODEL_SERVER_LIMITS, { bodyBytes: options.bodyLimit, ...options.limits }).bodyBytes,
        log: options.log,
      });
    }
    url = await listenOn(server.app, options);
  } catch (error) {
    await grpc?.close();
    await server.close();
    throw error;
  }
  if (!grpc) return Object.assign(server, { url });
  // gRPC calls finish before the pool's sessions are released: its server closes first.
  const closeHttp = server.close;
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= grpc.close().then(closeHttp));
  return Object.assign(server, { url, grpcAddress: grpc.address, close });
}

/** Loads the models and builds the app without listening (`startModelServer` listens too). */
export async function buildModelServer(options: Omit<ModelServerOptions, 'port' | 'host'>): Promise<BuiltModelServer> {
  const limits = resolveLimits(MODEL_SERVER_LIMITS, { bodyBytes: options.bodyLimit, ...options.limits });
  const logger = options.logger ?? (options.log ? pinoLogger(options.log) : stderrLogger);
  const metrics = new ServingMetrics();
  const pool = new ModelPool({ registry: options.registry, artifacts: options.artifacts, metrics, logger, batch: options.batch });
  const explicit = options.models.length > 0;
  // Without explicit models, every champion is served, and the watcher picks up new ones.
  let baseRefs = explicit ? options.models : await championRefs(options.registry, (message) => logger.warn(message));
  let deploymentsSeen = (await options.deployments?.latestId()) ?? 0;
  let deployments = (await options.deployments?.listDeployments()) ?? [];
  const configs = endpointConfigs(baseRefs, deployments, explicit);
  const failures: LoadFailure[] = await pool.configure(configs);
  if (pool.names().length === 0) {
    await pool.close();
    const detail = failures.length > 0 ? `: ${failures.map((failure) => `${failure.ref}: ${failure.error.message}`).join('; ')}` : '';
    throw new LoomError('NOT_FOUND', `no model could be loaded${configs.length === 0 ? ' (the registry has no model with a champion)' : ''}${detail}`, {
      fix: configs.length === 0 ? 'register one with `loom demo` or `loom run <pipeline file>`, or name one: `loom serve name@alias`' : 'run `loom models ls` to see registered models and aliases, then name them: `loom serve name@alias` or `loom serve name@version`',
    });
  }

  const log = options.predictionLog
    ? new PredictionLog(options.predictionLog, {
        ...options.predictionLogOptions,
        onDropped: (count) => metrics.droppedLogRecords(count),
        onWritten: (count) => metrics.wroteLogRecords(count),
        onError: options.predictionLogOptions?.onError ?? ((error) => logger.warn(`prediction log write failed: ${(error as Error).message}`)),
      })
    : undefined;
  const ctx: InferenceContext = { pool, metrics, log };

  // Per-request lines are off: at tens of thousands of requests a second they would cost more than inference.
  const app = await createHttpApp({
    limits,
    log: options.log && { logger: options.log, requests: false },
    errorFormat: 'kserve',
    anonymousName: 'anonymous',
    openApi: { title: 'Loom model server (loom serve)', description: "KServe Open Inference Protocol V2, TF Serving's REST API, MLflow's /invocations, feedback labels" },
    onError: (request, problem) => metrics.error(modelOfRequest(request) ?? '', problem.status),
    security: options.security,
    corsOrigins: options.corsOrigins,
    rateLimit: options.rateLimit,
    loadShedding: options.loadShedding,
  });
  // Not ready while no model is loaded, or while load shedding refuses requests.
  await app.register(v2Routes, { ctx, jsonDepth: limits.jsonDepth, isReady: () => pool.names().length > 0 && app.loadShedding?.pressure() === undefined });
  await app.register(tfServingRoutes, { ctx });
  await app.register(mlflowRoutes, { ctx, defaultModel: options.defaultModel ?? (explicit ? parseModelRef(baseRefs[0]!).name : undefined) });
  await app.register(metricsPlugin, { registry: metrics.registry });
  for (const plugin of options.plugins ?? []) await plugin(app, ctx);

  // The watcher: a cheap check of deployments (one max(id)), of the champions when no
  // models were named (a model registered since is served), and of each alias, every interval.
  let polling: Promise<void> | undefined;
  const refresh = () =>
    (polling ??= (async () => {
      try {
        // What changed is adopted only once the pool has been configured with it: a check
        // that fails half-way (a database blip) is simply repeated by the next tick.
        let changed = false;
        let seen = deploymentsSeen;
        let nextDeployments = deployments;
        let nextRefs = baseRefs;
        if (options.deployments) {
          const latest = await options.deployments.latestId();
          if (latest !== deploymentsSeen) {
            nextDeployments = await options.deployments.listDeployments();
            seen = latest;
            changed = true;
          }
        }
        if (!explicit) {
          const refs = await championRefs(options.registry);
          if (refs.join('\n') !== baseRefs.join('\n')) {
            nextRefs = refs;
            changed = true;
          }
        }
        if (changed) {
          // What fails to load here is retried by every later refresh until it loads.
          const failures = await pool.configure(endpointConfigs(nextRefs, nextDeployments, explicit));
          for (const failure of failures) metrics.swap(parseModelRef(failure.ref).name, 'failed');
          deploymentsSeen = seen;
          deployments = nextDeployments;
          baseRefs = nextRefs;
        }
        await pool.refresh({ retryFailed: !changed });
      } catch (error) {
        logger.warn(`checking the registry failed (will retry): ${(error as Error).message}`);
      } finally {
        polling = undefined;
      }
    })());
  const interval = options.watchIntervalMs ?? 1000;
  const timer = interval > 0 ? setInterval(() => void refresh(), interval) : undefined;
  timer?.unref();

  let closing: Promise<void> | undefined;
  // Drains in-flight requests (and, under the cluster, connections waiting on the shared socket) first, so no session is released mid-run.
  const closeApp = drainingClose(app);
  const shutdown = async () => {
    if (timer) clearInterval(timer);
    await closeApp();
    await polling;
    await pool.close();
    await log?.close();
  };
  return {
    app,
    get loaded() {
      return pool.loaded();
    },
    failures,
    pool,
    metrics,
    log,
    refresh,
    close: () => (closing ??= shutdown()),
  };
}

/**
 * What to serve: the references grouped by model name (the first is the primary, the
 * rest reachable by version), with each model's live deployment taking over its routing.
 * With explicit references only those models are served; otherwise every deployed one too.
 */
export function endpointConfigs(refs: readonly string[], deployments: readonly Deployment[], explicit: boolean): EndpointConfig[] {
  const byName = new Map<string, EndpointConfig>();
  for (const ref of refs) {
    const { name } = parseModelRef(ref);
    const config = byName.get(name);
    if (!config) byName.set(name, { name, primary: ref, extra: [] });
    else if (ref !== config.primary && !config.extra!.includes(ref)) config.extra!.push(ref);
  }
  for (const deployment of deployments) {
    const base = byName.get(deployment.modelName);
    if (explicit && !base) continue;
    byName.set(deployment.modelName, {
      name: deployment.modelName,
      primary: deployment.primary,
      canary: deployment.canary,
      shadow: deployment.shadow,
      split: deployment.split,
      batch: deployment.batch,
      extra: [...(base ? [base.primary, ...(base.extra ?? [])] : [])].filter((ref) => ref !== deployment.primary),
    });
  }
  return [...byName.values()];
}

/** The model a failed request named, for the error counter: its path's, or the one `/invocations` was asked for. */
function modelOfRequest(request: FastifyRequest): string | undefined {
  const name = (request.params as { name?: unknown } | undefined)?.name;
  if (typeof name === 'string') return name;
  return request.routeOptions.url === '/invocations' ? invocationsModel(request) : undefined;
}

/** Every registered model's champion, for a server started with no explicit models; `warn` hears of models without one. */
async function championRefs(registry: RegistryStore, warn?: (message: string) => void): Promise<string[]> {
  const refs: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = await registry.listRegisteredModels({ pageSize: 100, pageToken });
    for (const model of page.items) {
      if (model.aliases[DEFAULT_ALIAS] !== undefined) refs.push(`${model.name}@${DEFAULT_ALIAS}`);
      else warn?.(`skipping ${model.name}: it has no "${DEFAULT_ALIAS}" alias`);
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return refs;
}
