/** `loom serve [--port N] [model ...]`: the online model server. */
import type { Command } from 'commander';
import { z } from 'zod';
import type { LoadedModel } from '../../serve/model-loader.js';
import { startModelServer } from '../../serve/server.js';
import { parseOptions } from '../options.js';
import { openProject } from '../project.js';

const serveOptions = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
});

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve registered models over KServe V2 (and a JSON records form) until stopped')
    .argument('[models...]', 'models to serve as name, name@alias or name@version (default: every champion)')
    .option('--port <n>', 'port to listen on', '8080')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .action(async (models: string[], raw: unknown) => {
      const options = parseOptions(serveOptions, raw);
      const project = await openProject();
      try {
        const server = await startModelServer({ port: options.port, host: options.host, models, registry: project.db.registry, artifacts: project.artifacts });
        process.stderr.write(`serving ${server.loaded.map((m: LoadedModel) => `${m.name} v${m.version.version} (${m.ref})`).join(', ')} at ${server.url}\n`);
        process.stderr.write(`try: curl ${server.url}/v2/models/${server.loaded[0]?.name ?? 'NAME'}\n`);
        await waitForSignal();
        await server.close();
      } finally {
        await project.close();
      }
    });
}

/** Resolves on SIGINT or SIGTERM, so the server can drain and close cleanly. */
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
