/**
 * How a command opens its project: the platform, built from the configuration of this
 * process (`./.loom` or LOOM_HOME, LOOM_DATABASE_URL, loom.config.json; see `platform/config.ts`).
 * Commands that make things pass `{ create: true }`; the others fail with NOT_FOUND
 * outside a project instead of leaving a `.loom` folder behind.
 */
import type { MlflowServerFactory } from '../pipeline/launcher.js';
import { loadConfig, type ConfigOverrides } from '../platform/config.js';
import { openPlatform, withPlatform, type OpenPlatformOptions, type Platform } from '../platform/platform.js';
import { startPlatformServer } from '../server/server.js';
import { changeContext } from './security.js';

/** A command's view of the project: every store, the artifact store and the layout. */
export type Project = Platform;

/** `overrides` win over the environment and loom.config.json (a re-run's process: the server's own project, cli/rerun-processes.ts). */
export async function openProject(options: OpenPlatformOptions = {}, overrides?: ConfigOverrides): Promise<Project> {
  return openPlatform(loadConfig({ overrides }), { mlflowServer: platformApiOnLoopback, ...options });
}

/**
 * Opens the project, runs the work, and closes it whatever happens. The work sees the
 * registry as the command's principal (its token, or the login): every change authorized
 * and recorded in the audit log, in this one place for every command.
 */
export async function withProject<T>(work: (project: Project) => Promise<T>, options: OpenPlatformOptions = {}): Promise<T> {
  return withPlatform(
    loadConfig(),
    async (platform) => work(platform.actingAs(await changeContext(platform))),
    { mlflowServer: platformApiOnLoopback, ...options },
  );
}

/**
 * A custom trainer that logs with an MLflow client gets the platform API on loopback, started when it asks.
 * The server is imported statically: imported on demand (`await import`) under tsx, as the tests
 * run the CLI, its first plugin failed inside Fastify (`decorateRequest` found no instance state);
 * why was not found, so the start-up saving was given up here.
 */
function platformApiOnLoopback(project: Project): MlflowServerFactory {
  return () => startPlatformServer({ port: 0, db: project, artifacts: project.artifacts });
}
