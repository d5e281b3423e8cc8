/**
 * `loom server [--port N] [--workers N]`: the platform API (tracking and registry on MLflow's
 * REST paths) until stopped. With `--workers N` (or `server.workers` in loom.config.json)
 * N processes share the port (`http/cluster.ts`): one Node process accepts one new connection
 * per event-loop iteration, so a crowd of clients waits in the accept queue of a single one.
 * Every worker opens the project's database; both backends take several writing processes
 * (SQLite: WAL, a busy timeout and BEGIN IMMEDIATE; PostgreSQL: its own locks), and the
 * audit log's appends are serialized by the database (`audit/kysely-audit-log.ts`).
 */
import cluster from 'node:cluster';
import type { Command } from 'commander';
import { z } from 'zod';
import { createRequestSecurity } from '../../audit/request-security.js';
import type { ExposureDecision } from '../../auth/exposure.js';
import { exposureOf } from '../../auth/server-authentication.js';
import { runPrimary, serveInWorker } from '../../http/cluster.js';
import { resolveLoadShedding } from '../../http/load-shedding.js';
import { createLogger } from '../../http/request-log.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { startPlatformServer } from '../../server/server.js';
import { parseOptions } from '../options.js';
import { accessFlagsSchema, authSettingsWith, insecureOpenOption, requireAuthOption, type AccessFlags } from '../server-access.js';
import { openProject, type Project } from '../project.js';
import { RerunProcesses } from '../rerun-processes.js';
import { workersFailed } from './serve.js';

const serverOptions = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  workers: z.coerce.number().int().min(1).max(256).optional(),
  ...accessFlagsSchema.shape,
});

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description("start Loom's HTTP API (MLflow-compatible tracking and model registry) until stopped")
    .option('--port <n>', 'port to listen on', '5000')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--workers <n>', 'processes sharing the port, for many concurrent clients (default: server.workers in loom.config.json, else 1)')
    .addOption(requireAuthOption())
    .addOption(insecureOpenOption())
    .action(async (raw: unknown) => {
      const options = parseOptions(serverOptions, raw);
      if (cluster.isPrimary) {
        // MLflow clients create experiments and runs through it, so it may start a project.
        // Opened once here before any fork: creating it, migrating its database and settling
        // what a killed process left behind happen once, not in racing workers.
        const project = await openProject({ create: true });
        const workers = options.workers ?? project.config.server.workers ?? 1;
        if (workers === 1) return serveApi(options, project);
        let exposure: ExposureDecision;
        try {
          // An open server off loopback is refused here, once, rather than by every worker.
          exposure = exposureOf(authSettingsWith(project.config.auth, options), options.host);
        } finally {
          await project.close();
        }
        const code = await runPrimary({
          workers,
          onListening: (url, count) => process.stderr.write(`${listeningLine(url)} with ${count} workers\n${exposure.notice}\n`),
          onWorkerExit: (pid, code, signal) => process.stderr.write(`worker ${pid} exited (${signal ?? code}); starting another\n`),
        });
        if (code !== 0) throw workersFailed(code, workers, 'loom server');
        return;
      }
      return serveApi(options, await openProject({ create: true }));
    });
}

/** Where the API listens, as printed (tests and scripts read the URL from it). */
function listeningLine(url: string): string {
  return `Loom API at ${url} (MLflow clients: MLFLOW_TRACKING_URI=${url})`;
}

/** Serves the API from this process (the only one, or a cluster worker) until told to stop, then drains. */
async function serveApi(options: AccessFlags & { port: number; host: string }, project: Project): Promise<void> {
  let started = false;
  try {
    const security = createRequestSecurity(project, authSettingsWith(project.config.auth, options), options.host, 'mlflow-api');
    const { corsOrigins, rateLimit, loadShedding } = project.config.http;
    const log = createLogger({ level: project.config.logLevel, base: { server: 'platform' } });
    // The dashboard's re-run button runs a pipeline in a process of its own, as the principal who pressed it.
    const reruns = new RerunProcesses(project, (message) => log.error(message));
    await serveInWorker(
      () => startPlatformServer({ port: options.port, host: options.host, db: project, artifacts: project.artifacts, security, corsOrigins, rateLimit: rateLimit.server, loadShedding: resolveLoadShedding(loadShedding.server), log, monitor: { location: predictionLogLocation(project.config), labels: project.labels, history: project.monitorHistory, fits: project.monitorFits }, reruns }),
      (url) => process.stderr.write(`${listeningLine(url)}\n${security.exposure.notice}\n`),
    );
    started = true;
    // Re-runs still going finish first: stopping them halfway would leave them RUNNING.
    await reruns.drain();
  } finally {
    await project.close();
    // A worker's IPC channel would keep it alive after the server has drained; a worker that
    // failed to start only lets go of it and exits with its error's code (7 for a busy port).
    if (cluster.isWorker) {
      if (started) process.disconnect?.();
      else process.channel?.unref();
    }
  }
}
