/** `loom server [--port N]`: the platform API (tracking and registry on MLflow's REST paths) until stopped. */
import type { Command } from 'commander';
import { z } from 'zod';
import { createRequestSecurity } from '../../audit/request-security.js';
import { resolveLoadShedding } from '../../http/load-shedding.js';
import { createLogger } from '../../http/request-log.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { startPlatformServer } from '../../server/server.js';
import { parseOptions } from '../options.js';
import { accessFlagsSchema, authSettingsWith, insecureOpenOption, requireAuthOption } from '../server-access.js';
import { PipelineReruns } from '../../platform/rerun.js';
import { openProject } from '../project.js';
import { waitForSignal } from './serve.js';

const serverOptions = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  ...accessFlagsSchema.shape,
});

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description("start Loom's HTTP API (MLflow-compatible tracking and model registry) until stopped")
    .option('--port <n>', 'port to listen on', '5000')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .addOption(requireAuthOption())
    .addOption(insecureOpenOption())
    .action(async (raw: unknown) => {
      const options = parseOptions(serverOptions, raw);
      // MLflow clients create experiments and runs through it, so it may start a project.
      const project = await openProject({ create: true });
      try {
        const security = createRequestSecurity(project, authSettingsWith(project.config.auth, options), options.host, 'mlflow-api');
        const { corsOrigins, rateLimit, loadShedding } = project.config.http;
        const log = createLogger({ level: project.config.logLevel, base: { server: 'platform' } });
        // The dashboard's re-run button runs pipelines in this process, as the principal who pressed it.
        const reruns = new PipelineReruns(project, (message) => log.error(message));
        const server = await startPlatformServer({ port: options.port, host: options.host, db: project, artifacts: project.artifacts, security, corsOrigins, rateLimit: rateLimit.server, loadShedding: resolveLoadShedding(loadShedding.server), log, monitor: { location: predictionLogLocation(project.config), labels: project.labels, history: project.monitorHistory }, reruns });
        process.stderr.write(`Loom API at ${server.url} (MLflow clients: MLFLOW_TRACKING_URI=${server.url})\n${security.exposure.notice}\n`);
        await waitForSignal();
        await server.close();
        // Re-runs still going finish first: stopping them halfway would leave them RUNNING.
        await reruns.drain();
      } finally {
        await project.close();
      }
    });
}
