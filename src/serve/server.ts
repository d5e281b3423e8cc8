/**
 * The online model server: loads registered models at start and answers KServe V2
 * requests for them over HTTP.
 *
 * Usage:
 *   const server = await startModelServer({ port: 8080, models: ['flights@champion'], registry, artifacts });
 *   console.log(server.url); ... await server.close();
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { LoomError, asLoomError } from '../core/errors.js';
import type { RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { DEFAULT_ALIAS, loadModel, type LoadedModel } from './model-loader.js';
import { DEFAULT_BODY_LIMIT, errorResponse, v2Routes, type ServedModels } from './routes/v2.js';

/** Where the server reports what it loaded and what it could not. */
export interface ServerLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface ModelServerOptions {
  port: number;
  /** Default 127.0.0.1: serving on every interface is a choice to make explicitly. */
  host?: string;
  /** References (`name`, `name@alias`, `name@version`); empty means every registered model's champion. */
  models: string[];
  registry: RegistryStore;
  artifacts: ArtifactStore;
  /** Default: warnings to stderr, nothing else. */
  logger?: ServerLogger;
  /** Largest request body in bytes; default 10 MiB. */
  bodyLimit?: number;
}

/** A model that could not be loaded, and why. */
export interface LoadFailure {
  ref: string;
  error: LoomError;
}

export interface ModelServer {
  /** `http://host:port`, with the port actually bound (for `port: 0`). */
  url: string;
  app: FastifyInstance;
  /** The models being served, in the order of the references asked for. */
  loaded: LoadedModel[];
  failures: LoadFailure[];
  /** Stops accepting connections, finishes in-flight requests, then releases the sessions. */
  close(): Promise<void>;
}

const stderrLogger: ServerLogger = {
  info() {},
  warn(message) {
    process.stderr.write(`${message}\n`);
  },
};

/**
 * Loads the models and starts listening. A model that fails to load is reported (logger
 * and `failures`) and the rest are served; if none loads, fails with NOT_FOUND.
 */
export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const logger = options.logger ?? stderrLogger;
  const refs = options.models.length > 0 ? options.models : await championRefs(options.registry, logger);
  const loaded: LoadedModel[] = [];
  const failures: LoadFailure[] = [];
  for (const ref of refs) {
    try {
      const model = await loadModel(ref, options);
      loaded.push(model);
      logger.info(`loaded ${ref} (version ${model.version.version})`);
    } catch (error) {
      const loomError = asLoomError(error);
      failures.push({ ref, error: loomError });
      logger.warn(`cannot load ${ref}: ${loomError.describe()}`);
    }
  }
  if (loaded.length === 0) {
    const detail = failures.length > 0 ? `: ${failures.map((failure) => `${failure.ref}: ${failure.error.message}`).join('; ')}` : '';
    throw new LoomError('NOT_FOUND', `no model could be loaded${refs.length === 0 ? ' (the registry has no model with a champion)' : ''}${detail}`, {
      fix: 'run `loom models ls` to see registered models and aliases, then pass --model name@alias or name@version',
    });
  }

  const served = servedModels(loaded);
  // Per-request logging is off: at tens of thousands of requests a second it would cost more than inference.
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = errorResponse(new LoomError('NOT_FOUND', `no route ${request.method} ${request.url}`));
    return reply.code(status).send(body);
  });
  await app.register(v2Routes, { models: served, bodyLimit: options.bodyLimit });

  let closed = false;
  const releaseAll = async () => {
    await Promise.all(loaded.map((model) => model.close()));
  };
  try {
    await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  } catch (error) {
    await releaseAll();
    throw new LoomError('UNAVAILABLE', `cannot listen on ${options.host ?? '127.0.0.1'}:${options.port}: ${(error as Error).message}`, {
      field: 'port',
      fix: 'choose another --port, or stop what is using this one',
      retryable: false,
    });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    app,
    loaded,
    failures,
    async close() {
      if (closed) return;
      closed = true;
      // Fastify's close waits for in-flight requests, so no session is released mid-run.
      await app.close();
      await releaseAll();
    },
  };
}

/** Every registered model's champion, for a server started with no explicit models. */
async function championRefs(registry: RegistryStore, logger: ServerLogger): Promise<string[]> {
  const refs: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = await registry.listRegisteredModels({ pageSize: 100, pageToken });
    for (const model of page.items) {
      if (model.aliases[DEFAULT_ALIAS] !== undefined) refs.push(`${model.name}@${DEFAULT_ALIAS}`);
      else logger.warn(`skipping ${model.name}: it has no "${DEFAULT_ALIAS}" alias`);
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return refs;
}

/** The lookup the routes use: a name's default is the first reference loaded for it. */
function servedModels(loaded: readonly LoadedModel[]): ServedModels {
  const byName = new Map<string, LoadedModel[]>();
  for (const model of loaded) {
    const list = byName.get(model.name) ?? [];
    if (!list.some((other) => other.version.version === model.version.version)) list.push(model);
    byName.set(model.name, list);
  }
  return {
    get(name, version) {
      const list = byName.get(name);
      if (!list) {
        throw new LoomError('NOT_FOUND', `this server does not serve a model named "${name}" (it serves: ${[...byName.keys()].join(', ')})`, {
          field: 'model',
          fix: 'run `loom models ls` to see registered models; start the server with --model name@alias to serve one',
        });
      }
      if (version === undefined) return list[0];
      const model = list.find((candidate) => candidate.version.version === version);
      if (!model) {
        throw new LoomError('NOT_FOUND', `this server serves "${name}" version ${list.map((m) => m.version.version).join(', ')}, not version ${version}`, {
          field: 'version',
          fix: `run \`loom models ls\` to see versions; start the server with --model ${name}@${version} to serve it`,
        });
      }
      return model;
    },
    versions: (name) => (byName.get(name) ?? []).map((model) => model.version.version),
    isReady: () => true,
  };
}
