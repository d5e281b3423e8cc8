/**
 * The one error handler of a Loom HTTP app, as a plugin: every failure, whichever route
 * or hook it comes from, goes through `httpProblemOf` and the formatter of the route's
 * protocol (chosen per route plugin with `useErrorFormat`); unknown routes get a 404 in
 * the app's default shape. No route sets its own handler.
 *
 * Usage: `await app.register(errorHandlerPlugin, { errorFormat: 'kserve', onError })`
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { httpProblemOf, type HttpProblem } from './errors.js';
import { ERROR_FORMATTERS, type ErrorFormat } from './formats.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The error shape of this route's protocol (set by `useErrorFormat`). */
    errorFormat?: ErrorFormat;
  }
}

export interface ErrorHandlerOptions {
  /** The error shape of routes that choose none, and of unknown routes. */
  errorFormat: ErrorFormat;
  /** Told of every failed request (not unknown routes) once its status is known: error metrics. */
  onError?(request: FastifyRequest, problem: HttpProblem): void;
}

/**
 * Where a server fault's details go, since the client is told none of them: an error line
 * of the app's log, with the request id, the route and the stack; on an app built without a
 * log (tests), a line on stderr.
 */
export function logServerFault(request: FastifyRequest, error: unknown): void {
  if ((request.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('error')) {
    request.log.error({ err: error, route: request.routeOptions?.url }, 'request failed');
    return;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`request failed: ${request.method} ${request.routeOptions?.url ?? request.url.slice(0, 200)}: ${detail}\n`);
}

/** Makes every route registered in `scope` (an encapsulated plugin) answer errors in `format`. */
export function useErrorFormat(scope: FastifyInstance, format: ErrorFormat): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object | undefined), errorFormat: format };
  });
}

/** Sends `error` as the request's route answers errors; server faults are logged, never shown. */
export function replyWithError(request: FastifyRequest, reply: FastifyReply, error: unknown, defaultFormat: ErrorFormat): { reply: FastifyReply; problem: HttpProblem } {
  const problem = httpProblemOf(error);
  if (problem.internal) logServerFault(request, error);
  const format = (request.routeOptions?.config as { errorFormat?: ErrorFormat } | undefined)?.errorFormat ?? defaultFormat;
  return { reply: reply.code(problem.status).send(ERROR_FORMATTERS[format](problem)), problem };
}

export const errorHandlerPlugin = fp<ErrorHandlerOptions>(
  async (app, options) => {
    app.setErrorHandler((error, request, reply) => {
      const { reply: sent, problem } = replyWithError(request, reply, error, options.errorFormat);
      options.onError?.(request, problem);
      return sent;
    });
    app.setNotFoundHandler((request, reply) => {
      const error = Object.assign(new Error(`no route ${request.method} ${request.url}`), { statusCode: 404 });
      return replyWithError(request, reply, error, options.errorFormat).reply;
    });
  },
  { name: 'loom-error-handler', fastify: '5.x' },
);
