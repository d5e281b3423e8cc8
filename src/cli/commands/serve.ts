/**
 * `loom serve [models...] [--port N] [--grpc-port N] [--workers N]`: the online model server
 * (KServe V2 over HTTP and, on its own port, gRPC; TF Serving REST; MLflow `/invocations`;
 * `/metrics`), following alias moves and
 * `loom deploy` changes, on every core. Open only on loopback unless authentication is
 * required (`--require-auth`, `auth` in loom.config.json); tokens are those of `loom token`,
 * verified against the project's database by each worker and cached briefly.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { z } from 'zod';
import { ERROR_CODES, EXIT_CODE, LoomError } from '../../core/errors.js';
import { resolveLoadShedding } from '../../http/load-shedding.js';
import { createLogger } from '../../http/request-log.js';
import { batchAndBrowserPlugins } from '../../serve/server-plugins.js';
import { runPrimary, serveInWorker } from '../../http/cluster.js';
import { DEFAULT_TOKEN_CACHE_MS } from '../../auth/token-cache.js';
import { createServerAuthentication, exposureOf } from '../../auth/server-authentication.js';
import { parseModelRef } from '../../registry/model-ref.js';
import { ParquetPredictionSink, PostgresPredictionSink } from '../../serve/prediction-sinks.js';
import { feedbackPlugin } from '../../serve/routes/feedback.js';
import { startModelServer } from '../../serve/server.js';
import { parseOptions } from '../options.js';
import { accessFlagsSchema, authSettingsWith, insecureOpenOption, requireAuthOption } from '../server-access.js';
import { loadConfig, type LoomConfig } from '../../platform/config.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { retentionConfigured, scheduleRetention } from '../../monitor/retention.js';
import { requireProject } from '../../platform/platform.js';
import { openProject } from '../project.js';

const serveOptions = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  grpcPort: z.coerce.number().int().min(0).max(65535).optional(),
  host: z.string().min(1),
  workers: z.coerce.number().int().min(1).max(256).optional(),
  watchInterval: z.coerce.number().int().min(0).max(3_600_000),
  maxBatchSize: z.coerce.number().int().min(1).max(100_000).optional(),
  maxBatchWaitUs: z.coerce.number().int().min(0).max(10_000_000).optional(),
  bodyLimit: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).optional(),
  predictionLog: z.boolean(),
  defaultModel: z.string().min(1).optional(),
  ...accessFlagsSchema.shape,
});

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve registered models (KServe V2, TF Serving :predict, MLflow /invocations) until stopped; follows alias moves and deployments')
    .argument('[models...]', 'models to serve as name, name@alias or name@version (default: every champion and every deployment)')
    .option('--port <n>', 'port to listen on', '8080')
    .option('--grpc-port <n>', 'also answer KServe V2 over gRPC on this port (default: serve.grpcPort in loom.config.json, else no gRPC)')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--workers <n>', 'worker processes sharing the port (default: one per core)')
    .option('--watch-interval <ms>', 'how often to check aliases and deployments (0: never)', '1000')
    .option('--max-batch-size <rows>', 'most rows one micro-batch takes (default 64)')
    .option('--max-batch-wait-us <us>', 'longest a queued request waits for a busy model, in microseconds (default 2000)')
    .option('--body-limit <bytes>', 'largest request body (default 10 MiB)')
    .option('--no-prediction-log', 'do not log predictions (default: Parquet under .loom/predictions, or the prediction_log table on PostgreSQL)')
    .option('--default-model <name>', 'the model /invocations answers when a request names none')
    .addOption(requireAuthOption())
    .addOption(insecureOpenOption())
    .action(async (models: string[], raw: unknown) => {
      const options = parseOptions(serveOptions, raw);
      const workers = options.workers ?? availableParallelism();
      if (cluster.isPrimary && workers > 1) {
        // Said once here, rather than by every worker the primary would fork and restart:
        // a missing project, and an open server refused off loopback.
        const config = loadConfig();
        requireProject(config);
        const exposure = exposureOf(authSettingsWith(config.auth, options), options.host);
        const retention = retainPredictionLog(config, options.predictionLog);
        const code = await runPrimary({
          workers,
          onListening: (url, count, grpcAddress) => {
            process.stderr.write(`serving at ${url} with ${count} workers\n${grpcNotice(grpcAddress)}${exposure.notice}\n`);
            process.stderr.write(`try: curl ${url}/v2/models/${models[0]?.split('@')[0] ?? 'NAME'}\n`);
          },
          onWorkerExit: (pid, code, signal) => process.stderr.write(`worker ${pid} exited (${signal ?? code}); starting another\n`),
        }).finally(() => retention?.stop());
        if (code !== 0) throw workersFailed(code, workers, 'loom serve');
        return;
      }
      const project = await openProject();
      let started = false;
      // A worker leaves retention to its primary.
      const retention = cluster.isWorker ? undefined : retainPredictionLog(project.config, options.predictionLog);
      try {
        const { database, http } = project.config;
        const settings = authSettingsWith(project.config.auth, options);
        // Each worker verifies tokens against the project's database; a verified token is
        // reused for tokenCacheSeconds (default 30 s), so a revoked one may pass that long.
        const { exposure, resolvePrincipal } = createServerAuthentication({
          tokens: project.tokens,
          settings,
          host: options.host,
          tokenCache: { ttlMs: settings.tokenCacheSeconds === undefined ? DEFAULT_TOKEN_CACHE_MS : settings.tokenCacheSeconds * 1000 },
        });
        const predictionLog = !options.predictionLog ? undefined : database.url.startsWith('postgres') ? new PostgresPredictionSink(database) : new ParquetPredictionSink(project.layout.predictions);
        await serveInWorker(
          () =>
            startModelServer({
              port: options.port,
              host: options.host,
              grpcPort: options.grpcPort ?? project.config.serve.grpcPort,
              models,
              registry: project.registry,
              artifacts: project.artifacts,
              deployments: project.deployments,
              // Precomputed predictions by key (/v1/predictions/...) and the in-browser scoring page (/ui/score/).
              plugins: [
                ...batchAndBrowserPlugins({ metadata: project.metadata, artifacts: project.artifacts, defaultModel: options.defaultModel ?? (models[0] ? parseModelRef(models[0]).name : undefined) }),
                // Labels by request id (POST /v1/feedback), into the label store every worker shares.
                feedbackPlugin({
                  labels: project.labels,
                  log: database.url.startsWith('postgres') ? { kind: 'postgres', url: database.url, schema: database.schema } : { kind: 'parquet', dir: project.layout.predictions },
                  finishFile: predictionLog instanceof ParquetPredictionSink ? () => predictionLog.rotate() : undefined,
                }),
              ],
              watchIntervalMs: options.watchInterval,
              batch: { ...(options.maxBatchSize && { maxBatchSize: options.maxBatchSize }), ...(options.maxBatchWaitUs !== undefined && { maxWaitMicros: options.maxBatchWaitUs }) },
              bodyLimit: options.bodyLimit,
              predictionLog,
              defaultModel: options.defaultModel,
              log: createLogger({ level: project.config.logLevel, base: { server: 'model' } }),
              security: { resolvePrincipal, allowedHosts: exposure.allowedHosts },
              corsOrigins: http.corsOrigins,
              rateLimit: http.rateLimit.serve,
              loadShedding: resolveLoadShedding(http.loadShedding.serve),
            }),
          (serverUrl, grpcAddress) => {
            process.stderr.write(`serving at ${serverUrl}\n${grpcNotice(grpcAddress)}${exposure.notice}\n`);
            process.stderr.write(`try: curl ${serverUrl}/v2/models/${models[0]?.split('@')[0] ?? 'NAME'}\n`);
          },
        );
        started = true;
      } finally {
        await retention?.stop();
        await project.close();
        // A worker's IPC channel would keep it alive after the server has drained. Disconnecting
        // makes Node exit the worker with 0, so a worker that failed only lets go of the channel
        // and exits with its error's code (7 for a busy port), which the primary passes on.
        if (cluster.isWorker) {
          if (started) process.disconnect?.();
          else process.channel?.unref();
        }
      }
    });
}

/** The line that says where gRPC is served, when it is. */
function grpcNotice(address: string | undefined): string {
  return address ? `KServe V2 gRPC (inference.GRPCInferenceService) at ${address}\n` : '';
}

/**
 * The prediction log's retention (`monitor.retention`), applied when the server starts and
 * then every `everyMinutes` by one process: the primary, or the only one. Nothing when the
 * log is off or no policy is set.
 */
function retainPredictionLog(config: LoomConfig, logging: boolean): { stop(): Promise<void> } | undefined {
  const policy = config.monitor.retention;
  if (!logging || !retentionConfigured(policy)) return undefined;
  return scheduleRetention(predictionLogLocation(config), policy, {
    onPass: (result) => {
      const removed = result.removedRows ?? result.removedFiles.length;
      if (removed > 0) process.stderr.write(`prediction log retention removed ${removed} ${result.removedRows !== undefined ? 'rows' : 'files'}\n`);
      const orphans = result.removedOrphanProfiles.length;
      if (orphans > 0) process.stderr.write(`prediction log retention removed ${orphans} profiles whose log file was already gone\n`);
    },
    onError: (error) => process.stderr.write(`prediction log retention failed (tried again at the next pass): ${error instanceof Error ? error.message : String(error)}\n`),
  });
}

/**
 * The primary's failure when no worker could start: each worker has printed its own error,
 * and the command exits with that error's code (7 for a busy port), never 0.
 */
export function workersFailed(exitCode: number, workers: number, command: string): LoomError {
  const code = ERROR_CODES.find((candidate) => EXIT_CODE[candidate] === exitCode) ?? 'INTERNAL';
  return new LoomError(code, `none of the ${workers} server workers could start (their error is above)`, { fix: `fix the error above, then run \`${command}\` again`, retryable: false });
}

/** Resolves on SIGINT or SIGTERM, so a server can drain and close cleanly. */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
